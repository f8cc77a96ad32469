using DecentCloud.Functions.Marketplace.Contracts;

namespace DecentCloud.Tests.Marketplace;

public sealed class RefundTests
{
    private const long NoApprovalNeeded = long.MaxValue;
    private static readonly DateTimeOffset ProvisionedAt = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static RefundInput Month(RefundReason reason, double servedHoursSinceProvisioning = 240, double pausedHours = 0, long released = 0) =>
        new(
            PaymentMinor: 720_00,
            ReleasedMinor: released,
            TermHours: 720,
            ProvisionedAt: ProvisionedAt,
            CancelledAt: ProvisionedAt.AddHours(servedHoursSinceProvisioning),
            PausedDuration: TimeSpan.FromHours(pausedHours),
            Reason: reason);

    private static void AssertSplit(RefundOutcome outcome, long refund, long released, long remainder)
    {
        Assert.Equal(refund, outcome.RefundMinor);
        Assert.Equal(released, outcome.ReleasedMinor);
        Assert.Equal(remainder, outcome.ProviderRemainderMinor);
        Assert.Equal(outcome.PaymentMinor, outcome.RefundMinor + outcome.ReleasedMinor + outcome.ProviderRemainderMinor);
    }

    [Theory]
    [InlineData(RefundReason.ProviderRejected)]
    [InlineData(RefundReason.ProvisioningFailed)]
    [InlineData(RefundReason.ExpiredWaitingForProvider)]
    public void Rejection_failed_provisioning_and_expiry_waiting_for_the_provider_refund_in_full(RefundReason reason)
    {
        var input = Month(reason) with { ProvisionedAt = null };
        AssertSplit(Refunds.Compute(input, NoApprovalNeeded), refund: 720_00, released: 0, remainder: 0);
    }

    [Fact]
    public void A_requester_who_cancels_before_provisioning_completes_gets_everything_back()
    {
        var input = Month(RefundReason.RequesterCancelled) with { ProvisionedAt = null };
        AssertSplit(Refunds.Compute(input, NoApprovalNeeded), refund: 720_00, released: 0, remainder: 0);
    }

    [Fact]
    public void A_requester_who_cancels_after_a_third_of_the_term_gets_two_thirds_back()
    {
        var outcome = Refunds.Compute(Month(RefundReason.RequesterCancelled, servedHoursSinceProvisioning: 240), NoApprovalNeeded);
        AssertSplit(outcome, refund: 480_00, released: 0, remainder: 240_00);
    }

    [Fact]
    public void Paused_time_is_credited_back_and_released_money_stays_with_the_provider()
    {
        // 240 h since provisioning, 48 h of it paused: 192 h served, the provider earned 192 / 720 of 720.00 = 192.00.
        // 100.00 of that was already released, so 92.00 is still owed; the renter gets the unused 528.00.
        var outcome = Refunds.Compute(Month(RefundReason.RequesterCancelled, 240, pausedHours: 48, released: 100_00), NoApprovalNeeded);
        AssertSplit(outcome, refund: 528_00, released: 100_00, remainder: 92_00);
    }

    [Fact]
    public void A_refund_never_reaches_into_money_already_released_even_when_releases_ran_ahead()
    {
        // 100 h served earns 100.00, but 700.00 has been released: only the 20.00 still held can be refunded.
        var outcome = Refunds.Compute(Month(RefundReason.RequesterCancelled, 100, released: 700_00), NoApprovalNeeded);
        AssertSplit(outcome, refund: 20_00, released: 700_00, remainder: 0);
    }

    [Fact]
    public void A_cancellation_after_the_full_term_refunds_nothing()
    {
        var outcome = Refunds.Compute(Month(RefundReason.RequesterCancelled, 800, released: 600_00), NoApprovalNeeded);
        AssertSplit(outcome, refund: 0, released: 600_00, remainder: 120_00);
    }

    [Fact]
    public void A_provider_who_loses_a_dispute_refunds_the_unused_share()
    {
        var outcome = Refunds.Compute(Month(RefundReason.DisputeLost, 360, released: 300_00), NoApprovalNeeded);
        AssertSplit(outcome, refund: 360_00, released: 300_00, remainder: 60_00);
    }

    [Fact]
    public void The_provider_share_of_served_time_rounds_up_so_the_refund_rounds_down()
    {
        // 10.00 for 720 h, one hour served: 1000 / 720 = 1.39 earned rounds up to 2; the renter gets 998.
        var input = Month(RefundReason.RequesterCancelled, servedHoursSinceProvisioning: 1) with { PaymentMinor = 10_00 };
        AssertSplit(Refunds.Compute(input, NoApprovalNeeded), refund: 998, released: 0, remainder: 2);
    }

    [Fact]
    public void A_cancellation_stamped_before_provisioning_counts_as_no_service()
    {
        var outcome = Refunds.Compute(Month(RefundReason.RequesterCancelled, servedHoursSinceProvisioning: -1), NoApprovalNeeded);
        AssertSplit(outcome, refund: 720_00, released: 0, remainder: 0);
    }

    [Fact]
    public void A_refund_above_the_threshold_waits_for_an_admin_and_one_at_the_threshold_does_not()
    {
        var input = Month(RefundReason.RequesterCancelled, 240);
        Assert.True(Refunds.Compute(input, approvalThresholdMinor: 479_99).AwaitsAdminApproval);
        Assert.False(Refunds.Compute(input, approvalThresholdMinor: 480_00).AwaitsAdminApproval);
    }

    [Fact]
    public void Inputs_that_cannot_describe_a_payment_are_rejected_as_programming_errors()
    {
        var valid = Month(RefundReason.RequesterCancelled);
        Assert.Throws<ArgumentOutOfRangeException>(() => Refunds.Compute(valid with { PaymentMinor = -1 }, NoApprovalNeeded));
        Assert.Throws<ArgumentOutOfRangeException>(() => Refunds.Compute(valid with { ReleasedMinor = 720_01 }, NoApprovalNeeded));
        Assert.Throws<ArgumentOutOfRangeException>(() => Refunds.Compute(valid with { ReleasedMinor = -1 }, NoApprovalNeeded));
        Assert.Throws<ArgumentOutOfRangeException>(() => Refunds.Compute(valid with { TermHours = 0 }, NoApprovalNeeded));
        Assert.Throws<ArgumentOutOfRangeException>(() => Refunds.Compute(valid with { PausedDuration = TimeSpan.FromHours(-1) }, NoApprovalNeeded));
        Assert.Throws<ArgumentOutOfRangeException>(() => Refunds.Compute(valid, approvalThresholdMinor: -1));
    }
}
