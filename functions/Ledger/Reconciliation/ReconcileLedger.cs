namespace DecentCloud.Functions.Ledger.Reconciliation;

/// <summary>Timer, every night at 02:30 UTC: checks the ledger's invariants and keeps the report (<see cref="LedgerReconciliation"/>).</summary>
public sealed class ReconcileLedger(LedgerReconciliation reconciliation)
{
    [Function(nameof(ReconcileLedger))]
    public async Task Run([TimerTrigger("0 30 2 * * *")] TimerInfo timer, CancellationToken cancellationToken) =>
        await reconciliation.RunAsync(cancellationToken);
}
