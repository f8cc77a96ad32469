using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Marketplace.Contracts;

namespace DecentCloud.Tests.Billing;

/// <summary>Worked examples of the refund rules (docs/contracts.md, "Refunds"), on a month paid 856.80 gross (720.00 + 19 % VAT).</summary>
public sealed class RefundRulesTests
{
    private const long Gross = 856_80;
    private static readonly DateTimeOffset ProvisionedAt = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static ServiceTime Served(double hoursSinceProvisioning, double pausedHours = 0, bool provisioned = true) =>
        new(720, provisioned ? ProvisionedAt : null, ProvisionedAt.AddHours(hoursSinceProvisioning), TimeSpan.FromHours(pausedHours));

    private static PaymentHeld Paid(long refunded = 0, long released = 0, long charged = Gross) => new(charged, refunded, released);

    [Theory]
    [InlineData(RefundReason.ProviderRejected)]
    [InlineData(RefundReason.ProvisioningFailed)]
    [InlineData(RefundReason.ExpiredWaitingForProvider)]
    [InlineData(RefundReason.DuplicatePayment)]
    [InlineData(RefundReason.PaidAfterEnd)]
    public void Full_reasons_give_back_everything_the_payment_still_holds_even_after_service(RefundReason reason)
    {
        Assert.Equal(Gross, RefundRules.Owed(reason, Paid(), Served(240)));
        Assert.Equal(Gross - 100_00, RefundRules.Owed(reason, Paid(refunded: 100_00), Served(240)));
        Assert.Equal(Gross - 100_00 - 50_00, RefundRules.Owed(reason, Paid(refunded: 100_00, released: 50_00), Served(240)));
    }

    [Fact]
    public void A_renter_who_cancels_before_provisioning_completes_gets_the_gross_amount_back()
    {
        Assert.Equal(Gross, RefundRules.Owed(RefundReason.RenterCancelled, Paid(), Served(240, provisioned: false)));
    }

    [Fact]
    public void A_renter_who_cancels_after_a_third_of_the_term_gets_two_thirds_of_the_gross_amount_back()
    {
        Assert.Equal(571_20, RefundRules.Owed(RefundReason.RenterCancelled, Paid(), Served(240)));
    }

    [Fact]
    public void Paused_time_is_credited_back_to_the_renter()
    {
        // 240 h since provisioning, 48 h of it paused: 192 h served earns 856.80 × 192 / 720 = 228.48; 628.32 back.
        Assert.Equal(628_32, RefundRules.Owed(RefundReason.RenterCancelled, Paid(), Served(240, pausedHours: 48)));
    }

    [Fact]
    public void What_was_refunded_already_counts_towards_the_unused_share()
    {
        Assert.Equal(571_20 - 100_00, RefundRules.Owed(RefundReason.RenterCancelled, Paid(refunded: 100_00), Served(240)));
        Assert.Equal(0, RefundRules.Owed(RefundReason.RenterCancelled, Paid(refunded: 600_00), Served(240)));
    }

    [Fact]
    public void A_refund_never_reaches_into_money_already_released_even_when_releases_ran_ahead()
    {
        // 100 h served earns 119.00, but 800.00 was released: only the 56.80 still held can be refunded.
        Assert.Equal(56_80, RefundRules.Owed(RefundReason.RenterCancelled, Paid(released: 800_00), Served(100)));
    }

    [Fact]
    public void A_cancellation_after_the_full_term_refunds_nothing()
    {
        Assert.Equal(0, RefundRules.Owed(RefundReason.RenterCancelled, Paid(), Served(800)));
    }

    [Fact]
    public void A_provider_who_loses_a_dispute_refunds_the_unused_share()
    {
        Assert.Equal(428_40, RefundRules.Owed(RefundReason.DisputeLost, Paid(), Served(360)));
    }

    [Fact]
    public void The_provider_share_of_served_time_rounds_up_so_the_refund_rounds_down()
    {
        // 10.00 for 720 h, one hour served: 1000 / 720 = 1.39 earned rounds up to 2; the renter gets 998.
        Assert.Equal(998, RefundRules.Owed(RefundReason.RenterCancelled, Paid(charged: 10_00), Served(1)));
    }

    [Fact]
    public void A_cancellation_stamped_before_provisioning_counts_as_no_service()
    {
        Assert.Equal(Gross, RefundRules.Owed(RefundReason.RenterCancelled, Paid(), Served(-1)));
    }

    [Fact]
    public void Inputs_that_cannot_describe_a_payment_are_rejected_as_programming_errors()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RefundRules.Owed(RefundReason.RenterCancelled, Paid(charged: -1), Served(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => RefundRules.Owed(RefundReason.RenterCancelled, Paid(refunded: -1), Served(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => RefundRules.Owed(RefundReason.RenterCancelled, Paid(released: -1), Served(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => RefundRules.Owed(RefundReason.RenterCancelled, Paid(), Served(1) with { TermHours = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => RefundRules.Owed(RefundReason.RenterCancelled, Paid(), Served(1, pausedHours: -1)));
    }

    [Theory]
    [InlineData("requested", "rejected", RefundReason.ProviderRejected)]
    [InlineData("accepted", "rejected", RefundReason.ProviderRejected)]
    [InlineData("pending", "cancelled", RefundReason.RenterCancelled)]
    [InlineData("active", "cancelled", RefundReason.RenterCancelled)]
    [InlineData("requested", "expired", RefundReason.ExpiredWaitingForProvider)]
    [InlineData("pending", "expired", RefundReason.ExpiredWaitingForProvider)]
    [InlineData("provisioning", "provisioningfailed", RefundReason.ProvisioningFailed)]
    [InlineData("active", "expired", null)]
    [InlineData("paused", "expired", null)]
    [InlineData("requested", "accepted", null)]
    [InlineData("provisioned", "active", null)]
    public void Only_moves_that_end_a_contract_before_its_term_refund(string from, string to, RefundReason? reason)
    {
        Assert.True(ContractStateNames.TryParse(from, out var fromState));
        Assert.True(ContractStateNames.TryParse(to, out var toState));
        Assert.Equal(reason, RefundsOwed.ReasonFor(fromState, toState));
    }

    [Fact]
    public void The_service_clock_starts_at_provisioning_and_credits_every_paused_stretch_including_one_still_open()
    {
        var t0 = ProvisionedAt;
        ContractMoveEntity Move(string to, double hours) => new() { To = to, At = t0.AddHours(hours) };
        var moves = new[] { Move("accepted", -2), Move("provisioning", -1), Move("provisioned", 0), Move("active", 1), Move("paused", 10), Move("active", 15), Move("paused", 20) };

        var clock = RefundsOwed.ServiceClock(moves.Reverse(), 720, t0.AddHours(30));

        Assert.Equal(t0, clock.ProvisionedAt);
        Assert.Equal(TimeSpan.FromHours(5 + 10), clock.Paused);
    }

    [Theory]
    [InlineData("EUR", 150_000, true)]
    [InlineData("EUR", 100_000, false)]
    [InlineData("usd", 1_001, true)]
    [InlineData("USD", 1_000, false)]
    [InlineData("CHF", 50_001, true)]
    [InlineData("CHF", 50_000, false)]
    public void The_approval_threshold_is_set_per_currency_with_a_default_for_the_rest(string currency, long refund, bool awaits)
    {
        var options = new RefundOptions { Thresholds = "EUR=100000; USD=1000", DefaultThresholdMinor = 50_000 };
        Assert.Equal(awaits, options.AwaitsApproval(refund, currency));
    }

    [Theory]
    [InlineData("EUR")]
    [InlineData("EUR=ten")]
    [InlineData("EURO=100")]
    [InlineData("EUR=-5")]
    [InlineData("EUR=1;eur=2")]
    public void A_threshold_setting_that_cannot_be_read_stops_the_app_at_start_up(string thresholds)
    {
        var results = new RefundOptions { Thresholds = thresholds }.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(new object())).ToList();
        Assert.Contains(results, r => r.MemberNames.Contains(nameof(RefundOptions.Thresholds)));
    }
}
