using Azure.Data.Tables;
using DecentCloud.Functions.Billing;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Marketplace.Contracts;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Ledger.Releases;

public enum ReleaseOutcome
{
    /// <summary>Released now (with its ledger transaction).</summary>
    Released,

    /// <summary>This period was released already (by another run or instance).</summary>
    AlreadyReleased,

    /// <summary>Nothing to release this period.</summary>
    Nothing,

    /// <summary>The contract ended and is released as far as it ever will be: marked so, and passed by from now on.</summary>
    Settled,

    /// <summary>Not a paid contract, or already settled.</summary>
    NotReleasable,
}

/// <summary>What one release run did.</summary>
public sealed record ReleaseRun(DateTimeOffset PeriodEnd, int Contracts, int Released, long ReleasedMinor, int Settled, int Failed);

/// <summary>
/// Releases paid contracts' escrow to their providers for the time served (docs/ledger.md, "Releases"). A release is
/// one table transaction in the contract's partition: the contract row and the payment row, both If-Match their ETags
/// (so a move or a refund or another instance that changed either in between makes it read again), and the ledger
/// transaction keyed by the contract and the period's end (so a rerun of the same period is refused by storage). Two
/// instances, a crash in the middle, or a rerun therefore never release a period twice.
/// </summary>
public sealed partial class PaymentReleases(ContractRows rows, IOptionsMonitor<ReleaseOptions> options, ILogger<PaymentReleases> logger)
{
    private const int MaxWriteAttempts = 5;
    private const int Parallelism = 8;

    /// <summary>Releases every paid contract not yet settled up to the end of the last whole period at <paramref name="now"/>.</summary>
    public async Task<ReleaseRun> ReleaseAllAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var periodEnd = options.CurrentValue.PeriodEnd(now);
        var (contracts, released, settled, failed, releasedMinor) = (0, 0, 0, 0, 0L);
        var paid = rows.QueryAsync<ContractEntity>(
            TableClient.CreateQueryFilter($"RowKey eq {ContractEntity.ContractRowKey} and PaymentSucceeded eq true"), cancellationToken);
        await Parallel.ForEachAsync(paid, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (contract, token) =>
        {
            if (contract.ReleasesSettled)
            {
                return;
            }

            Interlocked.Increment(ref contracts);
            try
            {
                var (outcome, amount) = await ReleaseAsync(contract, periodEnd, token);
                if (outcome == ReleaseOutcome.Released)
                {
                    Interlocked.Increment(ref released);
                    Interlocked.Add(ref releasedMinor, amount);
                }
                else if (outcome == ReleaseOutcome.Settled)
                {
                    Interlocked.Increment(ref settled);
                }
            }
            catch (Exception ex) when (ex is Azure.RequestFailedException or InvalidOperationException)
            {
                // One contract's failure does not hold up the others'; the run reports it failed, and the next run retries
                // the contract (its period is not recorded as released).
                Interlocked.Increment(ref failed);
                LogReleaseFailed(logger, ex, contract.PartitionKey, periodEnd);
            }
        });

        var run = new ReleaseRun(periodEnd, contracts, released, releasedMinor, settled, failed);
        LogRun(logger, periodEnd, contracts, released, releasedMinor, settled, failed);
        return run;
    }

    /// <summary>Releases one contract up to <paramref name="periodEnd"/> (a period's end: its ledger key).</summary>
    public async Task<(ReleaseOutcome Outcome, long AmountMinor)> ReleaseAsync(ContractEntity? contract, DateTimeOffset periodEnd, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            if (contract is not { PaymentSucceeded: true, PaidSessionId: { } sessionId, ReleasesSettled: false })
            {
                return (ReleaseOutcome.NotReleasable, 0);
            }

            var payment = await rows.FindAsync<PaymentEntity>(contract.PartitionKey, PaymentEntity.RowKeyFor(sessionId), cancellationToken);
            if (payment is not { Status: PaymentStatus.Paid })
            {
                return (ReleaseOutcome.NotReleasable, 0);
            }

            if (payment.ReleasedThrough >= periodEnd)
            {
                return (ReleaseOutcome.AlreadyReleased, 0);
            }

            var moves = await rows.MovesAsync(contract.PartitionKey, cancellationToken);
            // Refunds are owed on a contract's own payment only once it has ended (docs/contracts.md, "Refunds").
            var owed = ContractStateMachine.IsTerminal(contract.CurrentState)
                ? (await rows.ListAsync<RefundOwedEntity>(contract.PartitionKey, RefundOwedEntity.RowKeyPrefix, cancellationToken))
                    .Where(r => r.SessionId == sessionId && r.RefundedAt is null).Sum(r => r.RefundMinor)
                : 0;
            var decision = ReleaseRules.Decide(contract, payment, moves, owed, periodEnd);
            if (decision.AmountMinor == 0 && !decision.Settled)
            {
                return (ReleaseOutcome.Nothing, 0);
            }

            contract.ReleasesSettled = decision.Settled;
            List<ITableEntity> writes = [contract];
            if (decision.AmountMinor > 0)
            {
                payment.ReleasedMinor += decision.AmountMinor;
                payment.ReleasedThrough = periodEnd;
                writes.Add(payment);
                writes.Add(LedgerPostings.Released(contract.PartitionKey, contract.ProviderKey, periodEnd, payment.Currency, decision.AmountMinor,
                    options.CurrentValue.FeeOf(decision.AmountMinor), periodEnd));
            }

            if (await rows.TryWriteAllAsync(writes, cancellationToken))
            {
                if (decision.AmountMinor > 0)
                {
                    LogReleased(logger, contract.PartitionKey, decision.AmountMinor, payment.Currency, periodEnd, payment.ReleasedMinor, payment.AmountTotalMinor);
                    return (ReleaseOutcome.Released, decision.AmountMinor);
                }

                return (ReleaseOutcome.Settled, 0);
            }

            // Something changed (a move, a refund, another instance's release of this period): read it all again.
            contract = await rows.ContractAsync(contract.PartitionKey, cancellationToken);
        }

        throw new InvalidOperationException($"releasing contract {contract?.PartitionKey} up to {periodEnd:O}: its rows kept changing ({MaxWriteAttempts} attempts)");
    }

    [LoggerMessage(EventId = 8901, Level = LogLevel.Information, Message = "Released {AmountMinor} {Currency} of contract {ContractId} up to {PeriodEnd:O} ({ReleasedMinor} of {ChargedMinor} released in all)")]
    private static partial void LogReleased(ILogger logger, string contractId, long amountMinor, string currency, DateTimeOffset periodEnd, long releasedMinor, long chargedMinor);

    [LoggerMessage(EventId = 8902, Level = LogLevel.Information, Message = "Release run up to {PeriodEnd:O}: {Contracts} contracts, {Released} releases of {ReleasedMinor} minor units in all, {Settled} settled, {Failed} failed")]
    private static partial void LogRun(ILogger logger, DateTimeOffset periodEnd, int contracts, int released, long releasedMinor, int settled, int failed);

    [LoggerMessage(EventId = 8903, Level = LogLevel.Error, Message = "Releasing contract {ContractId} up to {PeriodEnd:O} failed; the next run tries again")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string contractId, DateTimeOffset periodEnd);
}
