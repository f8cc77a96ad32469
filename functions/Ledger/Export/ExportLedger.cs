using System.Globalization;
using System.Text;
using Azure.Data.Tables;
using DecentCloud.Functions.Billing;
using DecentCloud.Functions.Operations;
using DecentCloud.Functions.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Ledger.Export;

/// <summary><c>GET /api/v1/admin/ledger.csv?from=&amp;to=</c>: every ledger entry of transactions in the range, as CSV, streamed.</summary>
public sealed class ExportLedger(ContractRows contracts, LedgerStore store, AdminAudit audit)
{
    /// <summary>Lines written between flushes: the answer goes out as storage pages come in, never held whole.</summary>
    private const int FlushEvery = 500;

    [EndpointSummary("The ledger as CSV")]
    [EndpointDescription("Admin. Every entry of the ledger transactions that happened in [from, to): one CSV line (RFC 4180) per entry with "
        + "transaction key, kind, time (UTC), contract, provider, account, currency, signed amount in minor units (debit positive) and the "
        + "outside reference. from and to are required, as a UTC date (2026-01-01) or a date and time with offset; from before to. "
        + "Contracts' transactions first, then payouts', each in storage order (docs/ledger.md).")]
    [Query("from", "to")]
    [Function(nameof(ExportLedger))]
    public async Task<Results<PushStreamHttpResult, ValidationProblem>> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "get", Route = "v1/admin/ledger.csv")] HttpRequest request, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var from = Time(QueryValues.Text(request, "from"), "from", errors);
        var to = Time(QueryValues.Text(request, "to"), "to", errors);
        if (errors.Count == 0 && from >= to)
        {
            errors["to"] = ["to must come after from."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Bad range");
        }

        var range = $"{from:O}/{to:O}";
        await audit.RecordAsync(request.HttpContext, "ledger.export", range, "exported");
        var filter = TableClient.CreateQueryFilter(
            $"RowKey ge {LedgerTransactionEntity.RowKeyPrefix} and RowKey lt {"ledger."} and OccurredAt ge {from} and OccurredAt lt {to}");
        return TypedResults.Stream(
            async body =>
            {
                await using var writer = new StreamWriter(body, new UTF8Encoding(false), bufferSize: 64 * 1024, leaveOpen: true) { NewLine = "\r\n" };
                await writer.WriteLineAsync(LedgerCsv.Header);
                var lines = 0;
                foreach (var source in new[] { contracts.QueryAsync<LedgerTransactionEntity>(filter, cancellationToken), store.QueryAsync<LedgerTransactionEntity>(filter, cancellationToken) })
                {
                    await foreach (var transaction in source)
                    {
                        foreach (var line in LedgerCsv.Lines(transaction))
                        {
                            await writer.WriteLineAsync(line);
                            if (++lines % FlushEvery == 0)
                            {
                                await writer.FlushAsync(cancellationToken);
                            }
                        }
                    }
                }

                await writer.FlushAsync(cancellationToken);
            },
            "text/csv; charset=utf-8",
            $"ledger-{from.UtcDateTime:yyyyMMdd'T'HHmmss}-{to.UtcDateTime:yyyyMMdd'T'HHmmss}.csv");
    }

    private static DateTimeOffset Time(string? text, string name, Dictionary<string, string[]> errors)
    {
        if (DateTimeOffset.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var day))
        {
            return day;
        }

        if (text is { Length: > 10 and <= 40 } && text.Contains('T', StringComparison.Ordinal)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) && (text.EndsWith('Z') || text[^6] is '+' or '-'))
        {
            return at;
        }

        errors[name] = [$"{name} is required: a UTC date (2026-01-01) or a date and time with its offset (2026-01-01T12:00:00Z)."];
        return default;
    }
}
