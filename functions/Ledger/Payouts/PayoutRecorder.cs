namespace DecentCloud.Functions.Ledger.Payouts;

public enum PayoutOutcome
{
    /// <summary>Recorded now, with its ledger transaction.</summary>
    Recorded,

    /// <summary>The same payout (reference, provider, currency, amount, method) was recorded before: that one.</summary>
    AlreadyRecorded,

    /// <summary>More than the provider is owed in the currency: nothing written.</summary>
    MoreThanOwed,

    /// <summary>The transfer reference belongs to another payout (another provider, currency, amount or method): nothing written.</summary>
    ReferenceTaken,
}

/// <summary>What recording a payout came to.</summary>
/// <param name="Payout">The payout recorded (now or before).</param>
/// <param name="Settled">The releases it settled, with the part of each.</param>
/// <param name="OwedMinor">What the provider is owed in the currency now (after the payout, or when refused).</param>
/// <param name="Taken">For <see cref="PayoutOutcome.ReferenceTaken"/>: the payout the reference belongs to.</param>
public sealed record PayoutResult(PayoutOutcome Outcome, PayoutEntity? Payout, IReadOnlyList<SettledRelease> Settled, long OwedMinor, TransferReferenceEntity? Taken = null);

/// <summary>
/// Records a payout made outside the system (docs/payouts.md). The transfer reference is taken first (one row for every
/// provider, so a reference names one payout); then one table transaction in the provider's partition of <c>Payouts</c>
/// adds the payout row and its ledger transaction and replaces the provider's payout total If-Match its ETag. Two admins
/// recording payouts for the same provider at once: one transaction wins, the other gets 412, reads the total again and
/// checks what is owed again, so what is paid out never passes what was released (payable never goes below 0). What is
/// owed is read before anything is written, so a refused payout writes nothing.
/// </summary>
public sealed partial class PayoutRecorder(LedgerStore store, Earnings earnings, TimeProvider time, ILogger<PayoutRecorder> logger)
{
    private const int MaxAttempts = 8;

    public async Task<PayoutResult> RecordAsync(PayoutRequest request, string recordedBy, CancellationToken cancellationToken)
    {
        var referenceKey = TransferReferenceEntity.RowKeyFor(request.TransferReference);
        var tookReference = false;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var claim = await store.FindAsync<TransferReferenceEntity>(TransferReferenceEntity.Partition, referenceKey, cancellationToken);
            if (claim is not null)
            {
                if (!claim.Matches(request))
                {
                    return new PayoutResult(PayoutOutcome.ReferenceTaken, await store.FindAsync<PayoutEntity>(claim.ProviderPubkey, claim.PayoutRowKey, cancellationToken), [], 0, claim);
                }

                if (await store.FindAsync<PayoutEntity>(request.ProviderPubkey, claim.PayoutRowKey, cancellationToken) is { } recorded)
                {
                    var (statement, _) = await StatementAsync(request, cancellationToken);
                    return new PayoutResult(PayoutOutcome.AlreadyRecorded, recorded,
                        PayoutSettlement.SettledBy(statement.Releases.Select(s => s.Release), recorded.SettledFromMinor, recorded.AmountMinor), statement.Balance.OwedMinor);
                }

                // Taken but not recorded: by a request for the same payout that is under way now, or that stopped between
                // taking the reference and recording it. Either way this one records it (the payout row's key is taken with
                // the reference, so only one of them can).
            }

            var (current, paid) = await StatementAsync(request, cancellationToken);
            var owed = current.Balance.OwedMinor;
            if (request.AmountMinor > owed)
            {
                if (claim is not null)
                {
                    await GiveBackAsync(request, claim, cancellationToken);
                }

                LogRefused(logger, request.ProviderPubkey, request.AmountMinor, request.Currency, owed);
                return new PayoutResult(PayoutOutcome.MoreThanOwed, null, [], owed);
            }

            var now = time.GetUtcNow();
            if (claim is null)
            {
                claim = new TransferReferenceEntity
                {
                    RowKey = referenceKey,
                    TransferReference = request.TransferReference,
                    ProviderPubkey = request.ProviderPubkey,
                    Currency = request.Currency,
                    AmountMinor = request.AmountMinor,
                    Method = request.Method,
                    PayoutRowKey = PayoutEntity.RowKeyFor(now, request.TransferReference),
                    ClaimedAt = now,
                };
                if (!await store.TryAddAsync(claim, cancellationToken))
                {
                    continue;
                }

                tookReference = true;
            }

            var ledger = LedgerPostings.PayoutPaid(request.ProviderPubkey, request.Currency, request.TransferReference, request.AmountMinor, now);
            var payout = new PayoutEntity
            {
                PartitionKey = request.ProviderPubkey,
                RowKey = claim.PayoutRowKey,
                ProviderPubkey = request.ProviderPubkey,
                Currency = request.Currency,
                AmountMinor = request.AmountMinor,
                Method = request.Method,
                TransferReference = request.TransferReference,
                RecordedAt = now,
                RecordedBy = recordedBy,
                SettledFromMinor = paid.PaidOutMinor,
                LedgerKey = ledger.IdempotencyKey,
            };
            paid.PaidOutMinor += request.AmountMinor;
            paid.Payouts++;
            paid.LastPayoutAt = now;
            if (await store.TryWriteAllAsync([paid, payout, ledger], cancellationToken))
            {
                LogRecorded(logger, request.ProviderPubkey, request.AmountMinor, request.Currency, request.Method, owed - request.AmountMinor);
                return new PayoutResult(PayoutOutcome.Recorded, payout,
                    PayoutSettlement.SettledBy(current.Releases.Select(s => s.Release), payout.SettledFromMinor, payout.AmountMinor), owed - request.AmountMinor);
            }

            // Another payout of this provider changed its total (412), or the same payout was recorded meanwhile (409): read again.
        }

        throw new InvalidOperationException(
            $"recording a payout of {request.AmountMinor} {request.Currency} to {request.ProviderPubkey}: its rows kept changing ({MaxAttempts} attempts; reference taken by this request: {tookReference})");
    }

    private async Task<(ProviderStatement Statement, PayoutBalanceEntity PaidOut)> StatementAsync(PayoutRequest request, CancellationToken cancellationToken)
    {
        // The total first, then the releases: releases only grow, so what is owed is never overstated by reading them later.
        var paid = await store.FindAsync<PayoutBalanceEntity>(request.ProviderPubkey, PayoutBalanceEntity.RowKeyFor(request.Currency), cancellationToken)
            ?? new PayoutBalanceEntity { PartitionKey = request.ProviderPubkey, RowKey = PayoutBalanceEntity.RowKeyFor(request.Currency), Currency = request.Currency };
        var releases = (await earnings.ReleasesAsync(request.ProviderPubkey, cancellationToken)).Where(r => r.Currency == request.Currency);
        return (Earnings.Statement(request.ProviderPubkey, request.Currency, releases, paid.PaidOutMinor), paid);
    }

    /// <summary>
    /// A refused payout frees the reference it (or an identical request) took without recording a payout, so the admin can
    /// record the right amount under it. Checked against the payout row first: a reference whose payout is recorded stays.
    /// </summary>
    private async Task GiveBackAsync(PayoutRequest request, TransferReferenceEntity claim, CancellationToken cancellationToken)
    {
        if (await store.FindAsync<PayoutEntity>(request.ProviderPubkey, claim.PayoutRowKey, cancellationToken) is null)
        {
            await store.TryDeleteAsync(claim, cancellationToken);
        }
    }

    [LoggerMessage(EventId = 8910, Level = LogLevel.Information, Message = "Payout of {AmountMinor} {Currency} to provider {ProviderPubkey} recorded ({Method}); {OwedMinor} still owed")]
    private static partial void LogRecorded(ILogger logger, string providerPubkey, long amountMinor, string currency, string method, long owedMinor);

    [LoggerMessage(EventId = 8911, Level = LogLevel.Warning, Message = "Payout of {AmountMinor} {Currency} to provider {ProviderPubkey} refused: only {OwedMinor} is owed")]
    private static partial void LogRefused(ILogger logger, string providerPubkey, long amountMinor, string currency, long owedMinor);
}
