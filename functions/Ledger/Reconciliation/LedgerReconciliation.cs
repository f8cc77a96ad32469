using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using DecentCloud.Functions.Billing;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Ledger.Payouts;

namespace DecentCloud.Functions.Ledger.Reconciliation;

/// <summary>A reconciliation's outcome: what was checked and every break found.</summary>
/// <param name="BreakCount">Every break found; <see cref="Breaks"/> lists the first <see cref="LedgerReconciliation.MaxBreaksKept"/>.</param>
public sealed record ReconciliationReport(DateTimeOffset RanAt, TimeSpan Took, int Transactions, int Payments, int Payouts, int BreakCount, IReadOnlyList<LedgerBreak> Breaks);

/// <summary>
/// Checks the ledger's invariants over every transaction and the payment and payout rows (docs/ledger.md, "Invariants"),
/// logs each break (Error, one line each) and keeps the report as the <c>_runs</c>/<c>reconciliation</c> row of
/// <c>Payouts</c>. Reads only: a break is for an admin to look into, never mended by the check.
/// </summary>
public sealed partial class LedgerReconciliation(ContractRows contracts, LedgerStore store, TimeProvider time, ILogger<LedgerReconciliation> logger)
{
    public const string ReportRowKey = "reconciliation";

    /// <summary>Breaks kept in the report row (a table property holds 64 KiB); the log has every one.</summary>
    public const int MaxBreaksKept = 100;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<ReconciliationReport> RunAsync(CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        var checks = new LedgerChecks();
        var ledgerRows = TableClient.CreateQueryFilter($"RowKey ge {LedgerTransactionEntity.RowKeyPrefix} and RowKey lt {"ledger."}");
        await foreach (var transaction in contracts.QueryAsync<LedgerTransactionEntity>(ledgerRows, cancellationToken))
        {
            checks.Add(transaction);
        }

        await foreach (var transaction in store.QueryAsync<LedgerTransactionEntity>(ledgerRows, cancellationToken))
        {
            checks.Add(transaction);
        }

        await foreach (var payment in contracts.AcrossContractsAsync<PaymentEntity>(PaymentEntity.RowKeyPrefix, cancellationToken))
        {
            checks.Add(payment);
        }

        await foreach (var payout in store.QueryAsync<PayoutEntity>(Prefix(PayoutEntity.RowKeyPrefix), cancellationToken))
        {
            checks.Add(payout);
        }

        await foreach (var total in store.QueryAsync<PayoutBalanceEntity>(Prefix(PayoutBalanceEntity.RowKeyPrefix), cancellationToken))
        {
            checks.Add(total);
        }

        var breaks = checks.Breaks();
        foreach (var found in breaks)
        {
            LogBreak(logger, found.Check, found.Subject, found.Currency, found.Detail);
        }

        var report = new ReconciliationReport(started, time.GetUtcNow() - started, checks.Transactions, checks.Payments, checks.Payouts, breaks.Count, breaks.Take(MaxBreaksKept).ToList());
        LogRun(logger, report.Transactions, report.Payments, report.Payouts, report.BreakCount);
        var row = await store.FindAsync<ReconciliationEntity>(LedgerStore.RunsPartition, ReportRowKey, cancellationToken) ?? new ReconciliationEntity { RowKey = ReportRowKey };
        row.Report = JsonSerializer.Serialize(report, Json);
        row.RanAt = started;
        row.BreakCount = report.BreakCount;
        // Two runs at once write the same facts: the last write wins.
        await store.UpsertAsync(row, cancellationToken);
        return report;
    }

    /// <summary>The last reconciliation's report, or null before the first.</summary>
    public async Task<ReconciliationReport?> LatestAsync(CancellationToken cancellationToken) =>
        await store.FindAsync<ReconciliationEntity>(LedgerStore.RunsPartition, ReportRowKey, cancellationToken) is { } row
            ? JsonSerializer.Deserialize<ReconciliationReport>(row.Report, Json)
            : null;

    private static string Prefix(string prefix) =>
        TableClient.CreateQueryFilter($"RowKey ge {prefix} and RowKey lt {prefix[..^1] + (char)(prefix[^1] + 1)}");

    [LoggerMessage(EventId = 8920, Level = LogLevel.Error, Message = "Ledger break {Check} on {Subject} ({Currency}): {Detail}")]
    private static partial void LogBreak(ILogger logger, string check, string subject, string currency, string detail);

    [LoggerMessage(EventId = 8921, Level = LogLevel.Information, Message = "Ledger reconciled: {Transactions} transactions, {Payments} paid payments, {Payouts} payouts, {Breaks} breaks")]
    private static partial void LogRun(ILogger logger, int transactions, int payments, int payouts, int breaks);
}

/// <summary>The last reconciliation's report, as JSON.</summary>
public sealed class ReconciliationEntity : ITableEntity
{
    public string PartitionKey { get; set; } = LedgerStore.RunsPartition;

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public DateTimeOffset RanAt { get; set; }

    public int BreakCount { get; set; }

    public string Report { get; set; } = "{}";
}
