using DecentCloud.Functions.Marketplace.Contracts;

using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DecentCloud.Tests.Marketplace;

/// <summary>A refund input and a later cancellation of the same contract, for the monotonicity property.</summary>
public sealed record LaterCancellation(RefundInput Input, TimeSpan Later);

public static class RefundArbitraries
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static Gen<long> Amounts =>
        Gen.OneOf(
            Gen.Choose(0, 10_000).Select(small => (long)small),
            from high in Gen.Choose(0, 1_000_000)
            from low in Gen.Choose(0, 999_999)
            select (high * 1_000_000L) + low);

    private static Gen<RefundInput> Inputs =>
        from payment in Amounts
        from releasedParts in Gen.OneOf(Gen.Constant(0), Gen.Choose(0, 1_000_000), Gen.Constant(1_000_000))
        from termHours in Gen.OneOf(Gen.Elements(1, 24, 720, 8760), Gen.Choose(1, 20_000))
        from provisioned in Gen.OneOf(Gen.Constant(false), Gen.Constant(true), Gen.Constant(true), Gen.Constant(true))
        from provisionedSeconds in Gen.Choose(0, 10_000_000)
        from servedSeconds in Gen.Choose(-3_600, 80_000_000)
        from pausedSeconds in Gen.OneOf(Gen.Constant(0), Gen.Choose(0, 10_000_000))
        from reason in Gen.Elements(Enum.GetValues<RefundReason>())
        let provisionedAt = Epoch.AddSeconds(provisionedSeconds)
        select new RefundInput(
            PaymentMinor: payment,
            ReleasedMinor: (long)((Int128)payment * releasedParts / 1_000_000),
            TermHours: termHours,
            ProvisionedAt: provisioned ? provisionedAt : null,
            CancelledAt: provisionedAt.AddSeconds(servedSeconds),
            PausedDuration: TimeSpan.FromSeconds(pausedSeconds),
            Reason: reason);

    public static Arbitrary<RefundInput> RefundInputs() => Inputs.ToArbitrary();

    public static Arbitrary<LaterCancellation> LaterCancellations() =>
        (from input in Inputs
         from laterSeconds in Gen.Choose(0, 80_000_000)
         select new LaterCancellation(input, TimeSpan.FromSeconds(laterSeconds))).ToArbitrary();
}

[Properties(Arbitrary = [typeof(RefundArbitraries)], MaxTest = 1000)]
public sealed class RefundProperties
{
    private const long NoApprovalNeeded = long.MaxValue;

    [Property]
    public bool Refund_and_released_never_exceed_the_payment(RefundInput input)
    {
        var outcome = Refunds.Compute(input, NoApprovalNeeded);
        return outcome.RefundMinor + outcome.ReleasedMinor <= input.PaymentMinor;
    }

    [Property]
    public bool Refund_and_provider_remainder_are_never_negative(RefundInput input)
    {
        var outcome = Refunds.Compute(input, NoApprovalNeeded);
        return outcome.RefundMinor >= 0 && outcome.ProviderRemainderMinor >= 0;
    }

    [Property]
    public bool Refund_released_and_provider_remainder_sum_exactly_to_the_payment(RefundInput input)
    {
        var outcome = Refunds.Compute(input, NoApprovalNeeded);
        return outcome.RefundMinor + outcome.ReleasedMinor + outcome.ProviderRemainderMinor == input.PaymentMinor
            && outcome.ReleasedMinor == input.ReleasedMinor;
    }

    [Property]
    public bool The_refund_never_grows_as_more_service_time_elapses(LaterCancellation pair)
    {
        var earlier = Refunds.Compute(pair.Input, NoApprovalNeeded);
        var later = Refunds.Compute(pair.Input with { CancelledAt = pair.Input.CancelledAt + pair.Later }, NoApprovalNeeded);
        return later.RefundMinor <= earlier.RefundMinor;
    }

    [Property]
    public bool A_contract_never_provisioned_is_refunded_everything_not_released(RefundInput input)
    {
        var outcome = Refunds.Compute(input with { ProvisionedAt = null }, NoApprovalNeeded);
        return outcome.RefundMinor == input.PaymentMinor - input.ReleasedMinor && outcome.ProviderRemainderMinor == 0;
    }

    [Property]
    public bool Only_a_refund_above_the_threshold_awaits_an_admin(RefundInput input, NonNegativeInt threshold)
    {
        var outcome = Refunds.Compute(input, threshold.Get);
        return outcome.AwaitsAdminApproval == (outcome.RefundMinor > threshold.Get);
    }
}
