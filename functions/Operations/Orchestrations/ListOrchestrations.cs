using System.Buffers.Text;
using System.Text;
using DecentCloud.Functions.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask.Client;

namespace DecentCloud.Functions.Operations.Orchestrations;

/// <summary><c>GET /api/v1/admin/orchestrations?status=&amp;name=&amp;pageSize=&amp;continuation=</c>: the task hub's instances, a page at a time.</summary>
public sealed class ListOrchestrations(AdminAudit audit)
{
    public const int DefaultPageSize = 50;
    public const int MaximumPageSize = 500;

    /// <summary>With a name filter, at most this many instances are read for one page; the continuation goes on from there.</summary>
    public const int MaximumScanned = 2000;

    /// <summary>The most pages of the hub read for one page (Azure Tables may answer a page with nothing in it but a continuation).</summary>
    public const int MaximumHubPages = 20;

    [EndpointSummary("List orchestration instances")]
    [EndpointDescription("Admin. Instances of the task hub in its order (by instance id): id, orchestration name, status, created and "
        + "last updated. status: one or more of Pending, Running, Suspended, Completed, Failed, Terminated (comma-separated); name: the "
        + "orchestration's name; pageSize 1-500 (default 50); continuation: from the previous page. A page filtered by name may hold fewer "
        + "instances than pageSize (even none) and still have a continuation. 400 for a bad value.")]
    [Query("status", "name", "pageSize", "continuation")]
    [Function(nameof(ListOrchestrations))]
    public async Task<Results<Ok<OrchestrationPage>, ValidationProblem>> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "get", Route = "v1/admin/orchestrations")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var statuses = Statuses(QueryValues.Text(request, "status"), errors);
        var name = QueryValues.Text(request, "name") is { Length: > 0 } given ? given.Trim() : null;
        var pageSize = QueryValues.WholeNumber(request, "pageSize") ?? DefaultPageSize;
        if (pageSize is < 1 or > MaximumPageSize)
        {
            errors["pageSize"] = [$"pageSize must be between 1 and {MaximumPageSize}."];
        }

        var continuation = Continuation.Read(QueryValues.Text(request, "continuation"), errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Bad query");
        }

        var found = new List<OrchestrationSummary>();
        var scanned = 0;
        var hubPages = 0;
        do
        {
            hubPages++;
            // Without a name filter one page of the hub is the answer; with one, pages are read until enough match.
            var wanted = name is null ? pageSize : Math.Min(pageSize - found.Count, MaximumScanned - scanned);
            var query = new OrchestrationQuery { Statuses = statuses, PageSize = wanted, ContinuationToken = continuation };
            var page = await client.GetAllInstancesAsync(query).AsPages(continuation, wanted).FirstOrDefaultAsync(cancellationToken);
            var instances = page?.Values ?? [];
            scanned += instances.Count;
            found.AddRange(instances.Where(i => name is null || string.Equals(i.Name, name, StringComparison.OrdinalIgnoreCase)).Select(OrchestrationSummary.Of));
            continuation = page?.ContinuationToken is { Length: > 0 } next ? next : null;
        }
        while (name is not null && continuation is not null && found.Count < pageSize && scanned < MaximumScanned && hubPages < MaximumHubPages);

        await audit.RecordAsync(request.HttpContext, "list-orchestrations", $"status={string.Join(',', statuses ?? [])} name={name}", $"{found.Count} instances");
        return TypedResults.Ok(new OrchestrationPage(found, Continuation.Write(continuation)));
    }

    private static OrchestrationRuntimeStatus[]? Statuses(string? text, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var statuses = new List<OrchestrationRuntimeStatus>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            // By name only: Enum.TryParse would also take "3" or "Running, Failed".
            var index = Array.FindIndex(Known, s => string.Equals(s.ToString(), part, StringComparison.OrdinalIgnoreCase));
            if (index < 0)
            {
                errors["status"] = [$"status is one or more of {string.Join(", ", Known)}, comma-separated."];
                return null;
            }

            statuses.Add(Known[index]);
        }

        return statuses.Distinct().ToArray();
    }

    private static readonly OrchestrationRuntimeStatus[] Known =
    [
        OrchestrationRuntimeStatus.Pending,
        OrchestrationRuntimeStatus.Running,
        OrchestrationRuntimeStatus.Suspended,
        OrchestrationRuntimeStatus.Completed,
        OrchestrationRuntimeStatus.Failed,
        OrchestrationRuntimeStatus.Terminated,
    ];

    /// <summary>
    /// The task hub's continuation token, handed out base64url-encoded so it travels in a query string unchanged and
    /// reads as opaque; one that does not decode is refused before the hub sees it.
    /// </summary>
    private static class Continuation
    {
        public static string? Write(string? token) =>
            string.IsNullOrEmpty(token) ? null : Base64Url.EncodeToString(Encoding.UTF8.GetBytes(token));

        public static string? Read(string? text, Dictionary<string, string[]> errors)
        {
            if (string.IsNullOrEmpty(text))
            {
                return null;
            }

            if (text.Length > 4096 || !Base64Url.IsValid(text))
            {
                errors["continuation"] = ["continuation must be the value a previous page answered."];
                return null;
            }

            try
            {
                return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Base64Url.DecodeFromChars(text));
            }
            catch (DecoderFallbackException)
            {
                errors["continuation"] = ["continuation must be the value a previous page answered."];
                return null;
            }
        }
    }
}
