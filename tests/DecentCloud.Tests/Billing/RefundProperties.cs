using System.Numerics;
using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Marketplace.Contracts;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DecentCloud.Tests.Billing;

/// <summary>
/// A paid contract's life as its history would record it: moves before provisioning, provisioning completed (or not),
/// then stretches of service and of pause, and the moment it ended. Amounts in minor units of the payment.
/// </summary>
public sealed record RefundCase(
    RefundReason Reason,
    long Charged,
    long Refunded,
    long Released,
    int TermHours,
    bool Provisioned,
    IReadOnlyList<(bool Paused, long Seconds)> Stretches,
    long EndOffsetSeconds)
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public DateTimeOffset ProvisionedAt => Start.AddHours(2);

    /// <summary>When the contract ended: after the last stretch, shifted by the offset (a negative one ends it earlier, even before provisioning).</summary>
    public DateTimeOffset EndedAt => ProvisionedAt.AddSeconds(Stretches.Sum(s => s.Seconds) + EndOffsetSeconds);

    public IEnumerable<ContractMoveEntity> Moves()
    {
        yield return new ContractMoveEntity { To = "accepted", At = Start };
        yield return new ContractMoveEntity { To = "provisioning", At = Start.AddHours(1) };
        if (!Provisioned)
        {
            yield break;
        }

        var at = ProvisionedAt;
        yield return new ContractMoveEntity { To = "provisioned", At = at };
        foreach (var (paused, seconds) in Stretches)
        {
            // A pause, or back in service (active, or provisioned again after a pause): the history names the state entered.
            yield return new ContractMoveEntity { To = paused ? "paused" : (seconds % 2 == 0 ? "active" : "provisioned"), At = at };
            at = at.AddSeconds(seconds);
        }
    }

    public ServiceTime Clock() => RefundsOwed.ServiceClock(Moves().Where(m => m.At <= EndedAt), TermHours, EndedAt);
}

public static class RefundCases
{
    private static Gen<long> Amounts =>
        Gen.OneOf(
            Gen.Choose(0, 10_000).Select(small => (long)small),
            from high in Gen.Choose(0, 1_000_000)
            from low in Gen.Choose(0, 999_999)
            select (high * 1_000_000L) + low);

    private static Gen<long> PartOf(long whole) =>
        Gen.OneOf(Gen.Constant(0L), Gen.Choose(0, 1_000_000).Select(parts => (long)((Int128)whole * parts / 1_000_000)), Gen.Constant(whole));

    private static Gen<RefundCase> Cases =>
        from reason in Gen.Elements(Enum.GetValues<RefundReason>())
        from charged in Amounts
        from refunded in PartOf(charged)
        from released in PartOf(charged - refunded)
        from term in Gen.OneOf(Gen.Elements(1, 24, 720, 8760), Gen.Choose(1, 20_000))
        from provisioned in Gen.Frequency((1, Gen.Constant(false)), (3, Gen.Constant(true)))
        from stretches in Gen.ListOf(Gen.Zip(Gen.Elements(false, true), Gen.Choose(0, 5_000_000).Select(s => (long)s)).Select(p => (p.Item1, p.Item2)))
        from endOffset in Gen.Choose(-20_000, 20_000)
        select new RefundCase(reason, charged, refunded, released, term, provisioned, stretches.Take(8).ToList(), endOffset);

    public static Arbitrary<RefundCase> Arbitrary() => Cases.ToArbitrary();
}

/// <summary>
/// The refund rules checked against an independent model of them: the model walks the contract's history second by
/// second of service (not start minus pauses), works in exact rational arithmetic with BigInteger, and states the
/// refund as the renter's unused share floored (not the charge less the provider's share rounded up).
/// </summary>
[Properties(Arbitrary = [typeof(RefundCases)], MaxTest = 1000)]
public sealed class RefundProperties
{
    private static long Model(RefundCase c)
    {
        var held = BigInteger.Max(0, (BigInteger)c.Charged - c.Refunded - c.Released);
        var full = c.Reason is RefundReason.ProviderRejected or RefundReason.ProvisioningFailed or RefundReason.ExpiredWaitingForProvider
            or RefundReason.DuplicatePayment or RefundReason.PaidAfterEnd;
        if (full || !c.Provisioned)
        {
            return (long)held;
        }

        // Seconds in service between provisioning and the end: every stretch that is not a pause, cut off at the end.
        BigInteger servedTicks = 0;
        var at = c.ProvisionedAt;
        var pausedNow = false;
        foreach (var (paused, seconds) in c.Stretches)
        {
            var until = at.AddSeconds(seconds);
            var stop = until < c.EndedAt ? until : c.EndedAt;
            if (!paused && stop > at)
            {
                servedTicks += (stop - at).Ticks;
            }

            at = until;
            pausedNow = paused;
        }

        // The last stretch's state lasts until the end: no move followed it.
        if (!pausedNow && c.EndedAt > at)
        {
            servedTicks += (c.EndedAt - at).Ticks;
        }

        var termTicks = (BigInteger)c.TermHours * TimeSpan.TicksPerHour;
        var unusedTicks = BigInteger.Max(0, termTicks - servedTicks);
        var unused = c.Charged * unusedTicks / termTicks;
        return (long)BigInteger.Min(BigInteger.Max(0, unused - c.Refunded), held);
    }

    private static long Code(RefundCase c) =>
        RefundRules.Owed(c.Reason, new PaymentHeld(c.Charged, c.Refunded, c.Released), c.Clock());

    [Property]
    public Property The_rules_owe_what_the_independent_model_owes(RefundCase c) =>
        (Code(c) == Model(c)).Label($"code {Code(c)}, model {Model(c)}");

    [Property]
    public bool A_refund_never_exceeds_what_the_payment_still_holds(RefundCase c) =>
        Code(c) + c.Refunded + c.Released <= Math.Max(c.Charged, c.Refunded + c.Released) && Code(c) >= 0;

    [Property]
    public bool The_refund_never_grows_as_the_contract_ends_later(RefundCase c, PositiveInt laterSeconds) =>
        Code(c with { EndOffsetSeconds = c.EndOffsetSeconds + laterSeconds.Get }) <= Code(c);

    [Property]
    public bool Turning_a_stretch_of_service_into_a_pause_never_lowers_the_refund(RefundCase c, NonNegativeInt which)
    {
        if (c.Stretches.Count == 0)
        {
            return true;
        }

        var i = which.Get % c.Stretches.Count;
        var paused = c.Stretches.Select((s, j) => j == i ? (true, s.Seconds) : s).ToList();
        return Code(c with { Stretches = paused }) >= Code(c);
    }
}
