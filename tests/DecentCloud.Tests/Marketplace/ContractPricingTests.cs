using DecentCloud.Functions.Marketplace.Contracts;

namespace DecentCloud.Tests.Marketplace;

public sealed class ContractPricingTests
{
    [Fact]
    public void The_default_term_is_720_hours_at_the_monthly_price()
    {
        var priced = Assert.IsType<PriceResult.Priced>(ContractPricing.Price(12_34));
        Assert.Equal(720, priced.Hours);
        Assert.Equal(12_34, priced.PriceMinor);
    }

    [Theory]
    [InlineData(72_000, 720, 72_000)]     // one month
    [InlineData(72_000, 1440, 144_000)]   // two months, exact
    [InlineData(72_000, 24, 2_400)]       // one day, exact
    [InlineData(1_000, 1, 2)]             // 1000 / 720 = 1.39 rounds up to 2
    [InlineData(1_000, 36, 50)]           // exact
    [InlineData(999, 360, 500)]           // 499.5 rounds up to 500
    [InlineData(1, 1, 1)]                 // 1/720 of a cent rounds up: a priced offering is never free
    [InlineData(0, 720, 0)]               // a free offering stays free
    public void The_price_is_monthly_times_hours_over_720_rounded_up_to_the_next_minor_unit(long monthly, int hours, long expected)
    {
        var priced = Assert.IsType<PriceResult.Priced>(ContractPricing.Price(monthly, hours));
        Assert.Equal(expected, priced.PriceMinor);
        Assert.Equal(hours, priced.Hours);
    }

    [Fact]
    public void Hours_within_the_offering_bounds_are_priced_including_the_bounds_themselves()
    {
        var bounds = new HourBounds(MinHours: 24, MaxHours: 8760);
        Assert.IsType<PriceResult.Priced>(ContractPricing.Price(72_000, 24, bounds));
        Assert.IsType<PriceResult.Priced>(ContractPricing.Price(72_000, 8760, bounds));
        Assert.IsType<PriceResult.Priced>(ContractPricing.Price(72_000, null, bounds));
    }

    [Fact]
    public void Hours_below_the_offering_minimum_are_refused_with_the_minimum_named()
    {
        var refused = Assert.IsType<PriceResult.Refused>(ContractPricing.Price(72_000, 10, new HourBounds(24, null)));
        Assert.Equal("10 hours is below the offering's minimum of 24 hours.", refused.Reason);
    }

    [Fact]
    public void Hours_above_the_offering_maximum_are_refused_with_the_maximum_named()
    {
        var refused = Assert.IsType<PriceResult.Refused>(ContractPricing.Price(72_000, 1000, new HourBounds(null, 744)));
        Assert.Equal("1000 hours is above the offering's maximum of 744 hours.", refused.Reason);
    }

    [Fact]
    public void The_default_term_is_refused_when_the_offering_caps_hours_below_a_month()
    {
        var refused = Assert.IsType<PriceResult.Refused>(ContractPricing.Price(72_000, null, new HourBounds(1, 168)));
        Assert.Contains("720 hours is above the offering's maximum of 168 hours", refused.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Zero_or_negative_hours_are_refused(int hours) =>
        Assert.IsType<PriceResult.Refused>(ContractPricing.Price(72_000, hours));

    [Fact]
    public void A_negative_monthly_price_is_refused() =>
        Assert.IsType<PriceResult.Refused>(ContractPricing.Price(-1, 720));

    [Fact]
    public void An_offering_whose_minimum_exceeds_its_maximum_is_refused()
    {
        var refused = Assert.IsType<PriceResult.Refused>(ContractPricing.Price(72_000, 100, new HourBounds(200, 100)));
        Assert.Contains("minimum of 200 hours is above its maximum of 100 hours", refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_price_too_large_for_64_bits_is_refused_rather_than_overflowing()
    {
        var refused = Assert.IsType<PriceResult.Refused>(ContractPricing.Price(long.MaxValue, 1440));
        Assert.Contains("does not fit", refused.Reason, StringComparison.Ordinal);
        Assert.IsType<PriceResult.Priced>(ContractPricing.Price(long.MaxValue, 720));
    }
}
