using DecentCloud.Functions.Platform.Http;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Operations;

/// <summary><c>GET /api/v1/admin/actions?month=yyyy-MM&amp;limit=N</c>: the admin audit trail, newest first.</summary>
public sealed class ListAdminActions(AdminAudit audit, TimeProvider time)
{
    private const int DefaultLimit = 100;
    private const int MaximumLimit = 1000;

    [EndpointSummary("Admin audit trail")]
    [EndpointDescription("Admin. Every admin action of one month (default: this month, UTC), newest first: when, who (the key's name), what, on what, the outcome and the trace id. limit 1-1000, default 100.")]
    [Query("month", "limit")]
    [Function(nameof(ListAdminActions))]
    public async Task<Results<Ok<IReadOnlyList<AdminAction>>, ValidationProblem>> Run([HttpTrigger(AuthorizationLevel.Admin, "get", Route = "v1/admin/actions")] HttpRequest request, CancellationToken cancellationToken)
    {
        var month = QueryValues.Text(request, "month");
        var limit = QueryValues.WholeNumber(request, "limit");
        var errors = new Dictionary<string, string[]>();
        month ??= AdminAudit.MonthOf(time.GetUtcNow());
        if (!DateTime.TryParseExact(month, "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            errors["month"] = ["month must be a UTC month written yyyy-MM, e.g. 2026-11."];
        }

        if (limit is < 1 or > MaximumLimit)
        {
            errors["limit"] = [$"limit must be between 1 and {MaximumLimit}."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Bad query");
        }

        var actions = await audit.ListAsync(month, limit ?? DefaultLimit, cancellationToken);
        await audit.RecordAsync(request.HttpContext, "list-admin-actions", month, $"{actions.Count} actions");
        return TypedResults.Ok(actions);
    }
}
