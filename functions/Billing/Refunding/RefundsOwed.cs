using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Marketplace.Contracts;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Billing.Refunding;

/// <summary>
/// The one place that decides which payments of a contract are owed back and how much (docs/contracts.md, "Refunds"). It
/// only builds the rows: the caller writes them in the same table transaction as what caused them (a contract's move,
/// a payment), so a paid contract never ends without its refunds on record and a payment is never owed back twice
/// (the row is keyed by the payment: a second writer's transaction fails as a whole).
/// </summary>
public sealed partial class RefundsOwed(ContractRows rows, IOptionsMonitor<RefundOptions> options, ILogger<RefundsOwed> logger)
{
    /// <summary>The refund reason of a move, or null when the move refunds nothing (a served term's expiry, any non-ending move).</summary>
    public static RefundReason? ReasonFor(ContractState from, ContractState to) => to switch
    {
        ContractState.Rejected => RefundReason.ProviderRejected,
        ContractState.ProvisioningFailed => RefundReason.ProvisioningFailed,
        ContractState.Cancelled => RefundReason.RenterCancelled,
        ContractState.Expired when from is ContractState.Requested or ContractState.Pending => RefundReason.ExpiredWaitingForProvider,
        _ => null,
    };

    /// <summary>
    /// The refund rows to write with the move of <paramref name="contract"/> from <paramref name="from"/> to
    /// <paramref name="to"/> at <paramref name="now"/>: one per paid payment that has none yet. A second payment is
    /// owed back in full whatever the move (it has its row from when it was recorded; this only fills a gap).
    /// </summary>
    /// <param name="reason">The reason when it is not the move's own (<see cref="ReasonFor"/>): a contract cancelled
    /// because its provider lost a dispute is refunded by <see cref="RefundReason.DisputeLost"/>.</param>
    public async Task<IReadOnlyList<RefundOwedEntity>> ForMoveAsync(ContractEntity contract, ContractState from, ContractState to, DateTimeOffset now, CancellationToken cancellationToken, RefundReason? reason = null)
    {
        if ((reason ?? ReasonFor(from, to)) is not { } owedReason)
        {
            return [];
        }

        var paid = (await rows.ListAsync<PaymentEntity>(contract.PartitionKey, PaymentEntity.RowKeyPrefix, cancellationToken))
            .Where(p => p.Status == PaymentStatus.Paid).ToList();
        if (paid.Count == 0)
        {
            return [];
        }

        var owed = (await rows.ListAsync<RefundOwedEntity>(contract.PartitionKey, RefundOwedEntity.RowKeyPrefix, cancellationToken))
            .Select(r => r.SessionId).ToHashSet(StringComparer.Ordinal);
        var service = ServiceClock(await rows.MovesAsync(contract.PartitionKey, cancellationToken), contract.Hours, now);
        var refunds = new List<RefundOwedEntity>();
        foreach (var payment in paid.Where(p => !owed.Contains(p.SessionId)))
        {
            if (Row(contract, payment, payment.Duplicate ? RefundReason.DuplicatePayment : owedReason, service, now) is { } row)
            {
                refunds.Add(row);
            }
        }

        return refunds;
    }

    /// <summary>
    /// The refund row to write with a payment being recorded, when the payment itself is owed back: it came for a
    /// contract already paid (all of it), or after the contract ended (all of it: there was no service to pay for).
    /// </summary>
    public RefundOwedEntity? ForPayment(ContractEntity contract, PaymentEntity payment, DateTimeOffset now)
    {
        RefundReason? reason = payment.Duplicate ? RefundReason.DuplicatePayment
            : ContractStateMachine.IsTerminal(contract.CurrentState) ? RefundReason.PaidAfterEnd
            : null;
        return reason is { } owed ? Row(contract, payment, owed, new ServiceTime(contract.Hours, null, now, TimeSpan.Zero), now) : null;
    }

    /// <summary>
    /// When the service ran, from the contract's history: provisioning completed at the first move to provisioned, and
    /// every stretch from a move to paused until the next move (or <paramref name="endedAt"/>) is paused time.
    /// </summary>
    public static ServiceTime ServiceClock(IEnumerable<ContractMoveEntity> moves, int termHours, DateTimeOffset endedAt)
    {
        DateTimeOffset? provisionedAt = null;
        DateTimeOffset? pausedSince = null;
        var paused = TimeSpan.Zero;
        foreach (var move in moves.OrderBy(m => m.At))
        {
            if (pausedSince is { } since)
            {
                paused += move.At - since;
                pausedSince = null;
            }

            if (move.To == ContractState.Provisioned.Name())
            {
                provisionedAt ??= move.At;
            }
            else if (move.To == ContractState.Paused.Name())
            {
                pausedSince = move.At;
            }
        }

        if (pausedSince is { } stillPaused && endedAt > stillPaused)
        {
            paused += endedAt - stillPaused;
        }

        return new ServiceTime(termHours, provisionedAt, endedAt, paused);
    }

    private RefundOwedEntity? Row(ContractEntity contract, PaymentEntity payment, RefundReason reason, ServiceTime service, DateTimeOffset now)
    {
        // A lost dispute's chargeback already gave the renter that much back (docs/ledger.md): it counts as refunded.
        var held = new PaymentHeld(payment.AmountTotalMinor, payment.RefundedMinor + payment.ChargedBackMinor, payment.ReleasedMinor);
        var refund = RefundRules.Owed(reason, held, service);
        if (refund <= 0)
        {
            LogNothingOwed(logger, contract.PartitionKey, payment.SessionId, reason);
            return null;
        }

        // A lost dispute's money already went back to the cardholder through the chargeback: paying this row through
        // Stripe as well would be refused or pay twice, so an admin decides (until the escrow ledger settles it).
        // ICPay has no refund API: an admin refunds in ICPay's dashboard, and payment.refunded marks the row done (docs/icpay.md).
        var awaits = reason == RefundReason.DisputeLost || payment.Method == PaymentMethods.Icpay || options.CurrentValue.AwaitsApproval(refund, payment.Currency);
        LogOwed(logger, contract.PartitionKey, payment.SessionId, refund, payment.Currency, reason, awaits);
        return new RefundOwedEntity
        {
            PartitionKey = contract.PartitionKey,
            RowKey = RefundOwedEntity.RowKeyFor(payment.SessionId),
            SessionId = payment.SessionId,
            PaymentIntentId = payment.PaymentIntentId,
            Currency = payment.Currency,
            Reason = reason.ToString(),
            ChargedMinor = held.ChargedMinor,
            RefundedBeforeMinor = held.RefundedMinor,
            ReleasedMinor = held.ReleasedMinor,
            RefundMinor = refund,
            AwaitsAdminApproval = awaits,
            RequestedAt = now,
        };
    }

    [LoggerMessage(EventId = 8070, Level = LogLevel.Information, Message = "Refund owed on contract {ContractId}, payment {SessionId}: {RefundMinor} {Currency} ({Reason}; awaits approval: {AwaitsApproval})")]
    private static partial void LogOwed(ILogger logger, string contractId, string sessionId, long refundMinor, string currency, RefundReason reason, bool awaitsApproval);

    [LoggerMessage(EventId = 8071, Level = LogLevel.Information, Message = "Nothing owed back on contract {ContractId}, payment {SessionId} ({Reason}): the payment holds nothing more to refund")]
    private static partial void LogNothingOwed(ILogger logger, string contractId, string sessionId, RefundReason reason);
}
