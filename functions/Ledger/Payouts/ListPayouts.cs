using System.Text;
using Azure.Data.Tables;
using DecentCloud.Functions.Operations;
using DecentCloud.Functions.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Ledger.Payouts;

/// <summary><c>GET /api/v1/admin/payouts?provider=&amp;limit=&amp;continuation=</c>: recorded payouts, a page at a time.</summary>
public sealed class ListPayouts(LedgerStore store, AdminAudit audit)
{
    private const int DefaultLimit = 50;
    private const int MaximumLimit = 500;

    [EndpointSummary("List payouts")]
    [EndpointDescription("Admin. Recorded payouts by provider, each provider's newest first; `?provider={pubkey}` only that provider's. "
        + "limit 1-500 (default 50); the answer's continuation, passed as `?continuation=`, gives the next page (null on the last).")]
    [Query("provider", "limit", "continuation")]
    [Function(nameof(ListPayouts))]
    public async Task<Results<Ok<PayoutPage>, ValidationProblem>> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "get", Route = "v1/admin/payouts")] HttpRequest request, CancellationToken cancellationToken)
    {
        var provider = QueryValues.Text(request, "provider")?.Trim().ToLowerInvariant();
        var limit = QueryValues.WholeNumber(request, "limit") ?? DefaultLimit;
        var continuation = QueryValues.Text(request, "continuation");
        var errors = new Dictionary<string, string[]>();
        if (provider is not null && (provider.Length != 64 || !provider.All(char.IsAsciiHexDigit)))
        {
            errors["provider"] = ["provider must be a provider's public key: 64 hex characters."];
        }

        if (limit is < 1 or > MaximumLimit)
        {
            errors["limit"] = [$"limit must be between 1 and {MaximumLimit}."];
        }

        (string Partition, string Row)? after = null;
        if (continuation is not null)
        {
            after = Decode(continuation);
            if (after is null)
            {
                errors["continuation"] = ["continuation must be the value a previous page answered."];
            }
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Bad query");
        }

        var end = PayoutEntity.RowKeyPrefix[..^1] + (char)(PayoutEntity.RowKeyPrefix[^1] + 1);
        var filter = TableClient.CreateQueryFilter($"RowKey ge {PayoutEntity.RowKeyPrefix} and RowKey lt {end}");
        if (provider is not null)
        {
            filter += " and " + TableClient.CreateQueryFilter($"PartitionKey eq {provider}");
        }

        if (after is { } from)
        {
            filter += " and " + TableClient.CreateQueryFilter($"(PartitionKey gt {from.Partition} or (PartitionKey eq {from.Partition} and RowKey gt {from.Row}))");
        }

        var payouts = new List<PayoutEntity>();
        string? next = null;
        await foreach (var payout in store.QueryAsync<PayoutEntity>(filter, cancellationToken))
        {
            if (payouts.Count == limit)
            {
                next = Encode(payouts[^1]);
                break;
            }

            payouts.Add(payout);
        }

        await audit.RecordAsync(request.HttpContext, "payouts.list", provider ?? "all", $"{payouts.Count} payouts");
        return TypedResults.Ok(new PayoutPage(payouts.Select(PayoutView.Of).ToList(), next));
    }

    private static string Encode(PayoutEntity last) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{last.PartitionKey}\n{last.RowKey}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static (string, string)? Decode(string continuation)
    {
        var base64 = continuation.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        var bytes = new byte[base64.Length];
        if (continuation.Length > 1000 || !Convert.TryFromBase64String(base64, bytes, out var length))
        {
            return null;
        }

        var parts = Encoding.UTF8.GetString(bytes, 0, length).Split('\n');
        return parts.Length == 2 && parts[1].StartsWith(PayoutEntity.RowKeyPrefix, StringComparison.Ordinal) && parts.All(p => p.Length > 0 && !p.Any(char.IsControl))
            ? (parts[0], parts[1])
            : null;
    }
}
