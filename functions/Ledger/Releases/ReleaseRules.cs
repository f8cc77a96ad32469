using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Marketplace.Contracts;

namespace DecentCloud.Functions.Ledger.Releases;

/// <summary>What one release of a contract's payment comes to, and whether the contract's releases are then done.</summary>
/// <param name="TargetMinor">What the provider has earned by the period's end, in all.</param>
public sealed record ReleaseDecision(long AmountMinor, long TargetMinor, bool Settled);

/// <summary>
/// The release rule (docs/ledger.md, "Releases") as one pure function. The provider has earned, by the end of the
/// period (or the contract's end, if sooner), charged × served / term rounded up, the same share the refund rules leave
/// the provider (<see cref="RefundRules.Earned"/>); a term served in full earns the whole charge. A release is what was
/// earned less what was released before, never more than the payment still holds in escrow after its refunds,
/// chargebacks and the refunds owed on it but not yet paid. The cumulative target makes the releases sum exactly: the
/// last one takes the remainder.
/// </summary>
public static class ReleaseRules
{
    /// <param name="moves">The contract's history (any order).</param>
    /// <param name="refundsOwedMinor">What refund rows owe on this payment and is not refunded yet: reserved for the renter.</param>
    public static ReleaseDecision Decide(ContractEntity contract, PaymentEntity payment, IEnumerable<ContractMoveEntity> moves, long refundsOwedMinor, DateTimeOffset periodEnd)
    {
        var history = moves.OrderBy(m => m.At).ToList();
        var ended = history.FirstOrDefault(m => ContractStateNames.TryParse(m.To, out var state) && ContractStateMachine.IsTerminal(state));
        var endedAt = ended is not null && ended.At < periodEnd ? ended.At : periodEnd;
        var service = RefundsOwed.ServiceClock(history.Where(m => m.At <= endedAt), contract.Hours, endedAt);
        var charged = payment.AmountTotalMinor;
        var termServed = ended?.To == ContractState.Expired.Name() && service.ProvisionedAt is not null;
        var target = termServed ? charged : RefundRules.Earned(charged, service);
        var releasable = Math.Max(0, charged - payment.RefundedMinor - payment.ChargedBackMinor - payment.ReleasedMinor - refundsOwedMinor);
        var amount = Math.Clamp(target - payment.ReleasedMinor, 0, releasable);
        var settled = ended is not null && ended.At <= periodEnd && (service.ProvisionedAt is null || payment.ReleasedMinor + amount >= Math.Min(target, charged - payment.RefundedMinor - payment.ChargedBackMinor));
        return new ReleaseDecision(amount, target, settled);
    }
}
