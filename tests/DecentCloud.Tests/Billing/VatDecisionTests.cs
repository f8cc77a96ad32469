using System.Globalization;
using DecentCloud.Functions.Billing.Vat;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DecentCloud.Tests.Billing;

public sealed class VatDecisionTests
{
    private const string SellerVatId = "DE123456789";

    private static readonly EuVatRates Rates = EuVatRates.Default;

    private static string TableSource => $"rate-table:{Rates.AsOf}";

    [Fact]
    public void Stripe_figures_win_over_the_rate_table()
    {
        // Stripe taxed a German consumer at 19 % on top of a 10.00 price.
        var stripe = new StripeTaxFigures(AmountSubtotal: 1000, AmountTax: 190, AmountTotal: 1190, RatePercent: 19m, TaxabilityReason: "standard_rated", TaxExempt: "none");

        var outcome = Decide(Sale("DE", buyer: "DE", charged: 1190, stripe: stripe));

        Assert.Equal(new VatOutcome(VatTreatment.Standard, 19m, 1000, 190, 1190, "stripe-tax", []), outcome with { Notes = [] });
        Assert.Empty(outcome.Notes);
    }

    [Fact]
    public void Stripe_naming_a_rate_but_charging_nothing_shows_a_rate_of_zero_next_to_no_vat()
    {
        // Stripe Tax says 19 % for Germany but collects nothing where the seller has no registration.
        var stripe = new StripeTaxFigures(1000, 0, 1000, 19m, "not_collecting", "none");

        var outcome = Decide(Sale("DE", buyer: "DE", charged: 1000, stripe: stripe));

        Assert.Equal((0m, 0L, 1000L), (outcome.RatePercent, outcome.VatMinor, outcome.NetMinor));
    }

    [Fact]
    public void Stripe_figures_win_even_where_the_table_would_say_otherwise()
    {
        // The table would take 20 % out of 1000 for France; Stripe charged 8.1 % on top, and that is what was charged.
        var stripe = new StripeTaxFigures(1000, 81, 1081, 8.1m, "standard_rated", "none");

        var outcome = Decide(Sale("DE", buyer: "FR", charged: 1081, stripe: stripe));

        Assert.Equal((VatTreatment.Standard, 8.1m, 1000L, 81L, 1081L), (outcome.Treatment, outcome.RatePercent, outcome.NetMinor, outcome.VatMinor, outcome.GrossMinor));
    }

    [Theory]
    [InlineData(1000, 190, "19")]
    [InlineData(999, 190, "19.02")] // 19.019…
    [InlineData(3, 1, "33.33")]
    [InlineData(3, 2, "66.67")]
    [InlineData(32, 1, "3.13")] // 3.125 exactly: half up
    [InlineData(0, 0, "0")]
    public void Without_a_rate_from_Stripe_the_effective_rate_is_vat_over_net_to_two_decimals(long net, long vat, string expected)
    {
        var stripe = new StripeTaxFigures(net, vat, net + vat, RatePercent: null, TaxabilityReason: "standard_rated", TaxExempt: "none");

        var outcome = Decide(Sale("DE", buyer: "DE", charged: net + vat, stripe: stripe));

        Assert.Equal(decimal.Parse(expected, CultureInfo.InvariantCulture), outcome.RatePercent);
    }

    [Theory]
    [InlineData("reverse_charge", "none")]
    [InlineData("not_collecting", "reverse")]
    public void Stripe_reverse_charge_is_a_reverse_charge_with_its_note(string taxabilityReason, string taxExempt)
    {
        var stripe = new StripeTaxFigures(5000, 0, 5000, 0m, taxabilityReason, taxExempt);

        var outcome = Decide(Sale("DE", buyer: "FR", buyerVatId: "FR12345678901", status: VatIdStatus.Valid, charged: 5000, stripe: stripe));

        Assert.Equal(VatTreatment.ReverseCharge, outcome.Treatment);
        Assert.Equal((0m, 5000L, 0L, 5000L), (outcome.RatePercent, outcome.NetMinor, outcome.VatMinor, outcome.GrossMinor));
        Assert.Equal([VatNotes.ReverseCharge], outcome.Notes);
    }

    [Fact]
    public void Stripe_saying_reverse_charge_while_charging_vat_shows_the_vat_charged()
    {
        var stripe = new StripeTaxFigures(1000, 200, 1200, 20m, "reverse_charge", "reverse");

        var outcome = Decide(Sale("DE", buyer: "FR", charged: 1200, stripe: stripe));

        Assert.Equal((VatTreatment.Standard, 200L), (outcome.Treatment, outcome.VatMinor));
    }

    [Fact]
    public void Stripe_without_tax_for_a_seller_without_a_vat_id_is_not_applicable()
    {
        var stripe = new StripeTaxFigures(1000, 0, 1000, null, "not_collecting", "none");

        var outcome = Decide(Sale("DE", sellerVatId: null, buyer: "FR", charged: 1000, stripe: stripe));

        Assert.Equal(VatTreatment.NotApplicable, outcome.Treatment);
        Assert.Equal([VatNotes.NotApplicable], outcome.Notes);
    }

    [Fact]
    public void Stripe_without_tax_for_a_buyer_outside_the_eu_is_outside_eu()
    {
        var stripe = new StripeTaxFigures(1000, 0, 1000, 0m, "not_subject_to_tax", "none");

        var outcome = Decide(Sale("DE", buyer: "US", charged: 1000, stripe: stripe));

        Assert.Equal(VatTreatment.OutsideEu, outcome.Treatment);
        Assert.Equal([VatNotes.OutsideEu], outcome.Notes);
    }

    [Fact]
    public void Stripe_figures_that_do_not_add_up_are_refused_with_the_figures_named()
    {
        var stripe = new StripeTaxFigures(1000, 190, 1000, 19m, "standard_rated", "none");

        var error = Assert.Throws<ArgumentException>(() => Decide(Sale("DE", buyer: "DE", charged: 1000, stripe: stripe)));

        Assert.Contains("amount_subtotal 1000", error.Message, StringComparison.Ordinal);
        Assert.Contains("amount_tax 190", error.Message, StringComparison.Ordinal);
        Assert.Contains("amount_total 1000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_domestic_german_sale_takes_19_percent_out_of_the_amount_charged()
    {
        var outcome = Decide(Sale("DE", buyer: "DE", charged: 1190));

        Assert.Equal(new VatOutcome(VatTreatment.Standard, 19m, 1000, 190, 1190, TableSource, []), outcome with { Notes = [] });
    }

    [Fact]
    public void The_vat_inside_the_charged_amount_is_rounded_half_up()
    {
        // 1000 × 19 / 119 = 159.66…
        var outcome = Decide(Sale("DE", buyer: "DE", charged: 1000));

        Assert.Equal((840L, 160L, 1000L), (outcome.NetMinor, outcome.VatMinor, outcome.GrossMinor));
    }

    [Theory]
    [InlineData(1, 0)] // 0.159…
    [InlineData(3, 0)] // 0.479…
    [InlineData(4, 1)] // 0.638…
    [InlineData(119, 19)]
    [InlineData(1190, 190)]
    public void Small_amounts_round_half_up_too(long charged, long vat)
    {
        var outcome = Decide(Sale("DE", buyer: "DE", charged: charged));

        Assert.Equal((charged - vat, vat), (outcome.NetMinor, outcome.VatMinor));
    }

    [Fact]
    public void An_exact_half_cent_rounds_up()
    {
        // 3 × 20 / 120 = 0.5 exactly.
        var outcome = Decide(Sale("DE", buyer: "FR", charged: 3));

        Assert.Equal((2L, 1L), (outcome.NetMinor, outcome.VatMinor));
    }

    [Fact]
    public void A_consumer_in_france_pays_the_french_rate()
    {
        var outcome = Decide(Sale("DE", buyer: "FR", charged: 1200));

        Assert.Equal((VatTreatment.Standard, 20m, 1000L, 200L, 1200L), (outcome.Treatment, outcome.RatePercent, outcome.NetMinor, outcome.VatMinor, outcome.GrossMinor));
    }

    [Fact]
    public void Finland_is_shown_at_25_point_5_percent_with_its_decimals()
    {
        var outcome = Decide(Sale("DE", buyer: "FI", charged: 1255));

        Assert.Equal(25.5m, outcome.RatePercent);
        Assert.Equal("25.5", outcome.RatePercent.ToString(CultureInfo.InvariantCulture));
        Assert.Equal((1000L, 255L), (outcome.NetMinor, outcome.VatMinor));
    }

    [Fact]
    public void A_business_in_another_member_state_with_a_valid_vat_id_gets_a_reverse_charge()
    {
        var outcome = Decide(Sale("DE", buyer: "FR", buyerVatId: "FR 12 345678901", status: VatIdStatus.Valid, charged: 5000));

        Assert.Equal(new VatOutcome(VatTreatment.ReverseCharge, 0m, 5000, 0, 5000, TableSource, []), outcome with { Notes = [] });
        Assert.Equal([VatNotes.ReverseCharge], outcome.Notes);
    }

    [Fact]
    public void A_greek_business_with_an_el_vat_id_gets_a_reverse_charge()
    {
        var outcome = Decide(Sale("DE", buyer: "GR", buyerVatId: "EL094259216", status: VatIdStatus.Valid, charged: 5000));

        Assert.Equal(VatTreatment.ReverseCharge, outcome.Treatment);
    }

    [Theory]
    [InlineData(VatIdStatus.Unverified)]
    [InlineData(VatIdStatus.Invalid)]
    [InlineData(VatIdStatus.None)]
    public void A_vat_id_vies_did_not_confirm_never_gives_a_reverse_charge(VatIdStatus status)
    {
        var outcome = Decide(Sale("DE", buyer: "FR", buyerVatId: "FR12345678901", status: status, charged: 1200));

        Assert.Equal((VatTreatment.Standard, 20m, 200L), (outcome.Treatment, outcome.RatePercent, outcome.VatMinor));
    }

    [Fact]
    public void A_business_in_the_sellers_own_country_pays_vat()
    {
        var outcome = Decide(Sale("DE", buyer: "DE", buyerVatId: "DE987654321", status: VatIdStatus.Valid, charged: 1190));

        Assert.Equal((VatTreatment.Standard, 19m, 190L), (outcome.Treatment, outcome.RatePercent, outcome.VatMinor));
    }

    [Fact]
    public void A_vat_id_of_another_country_than_the_buyers_gives_no_reverse_charge()
    {
        // A French address with a German VAT ID: the ID does not show a business established in France.
        var outcome = Decide(Sale("DE", buyer: "FR", buyerVatId: "DE987654321", status: VatIdStatus.Valid, charged: 1200));

        Assert.Equal((VatTreatment.Standard, 20m), (outcome.Treatment, outcome.RatePercent));
    }

    [Fact]
    public void A_seller_without_a_vat_id_charges_no_vat()
    {
        var outcome = Decide(Sale("DE", sellerVatId: " ", buyer: "DE", charged: 1190));

        Assert.Equal(new VatOutcome(VatTreatment.NotApplicable, 0m, 1190, 0, 1190, TableSource, []), outcome with { Notes = [] });
        Assert.Equal([VatNotes.NotApplicable], outcome.Notes);
    }

    [Fact]
    public void A_buyer_in_the_united_states_is_outside_eu_vat()
    {
        var outcome = Decide(Sale("DE", buyer: "US", charged: 1190));

        Assert.Equal(new VatOutcome(VatTreatment.OutsideEu, 0m, 1190, 0, 1190, TableSource, []), outcome with { Notes = [] });
        Assert.Equal([VatNotes.OutsideEu], outcome.Notes);
    }

    [Fact]
    public void Negative_amounts_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Decide(Sale("DE", buyer: "DE", charged: -1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Decide(Sale("DE", buyer: "DE", charged: 0, stripe: new StripeTaxFigures(-100, 0, -100, null, null, null))));
        Assert.Throws<ArgumentOutOfRangeException>(() => Decide(Sale("DE", buyer: "DE", charged: 0, stripe: new StripeTaxFigures(100, -19, 81, null, null, null))));
    }

    [Fact]
    public void The_rate_table_lists_the_27_member_states_with_its_date_and_source()
    {
        Assert.Equal(27, Rates.Members.Count);
        Assert.True(DateOnly.TryParseExact(Rates.AsOf, "yyyy-MM-dd", out _));
        Assert.Contains("European Commission", Rates.Source, StringComparison.Ordinal);
        Assert.All(Rates.Members, country => Assert.InRange(Rates.StandardRate(country), 15m, 27m));
    }

    [Theory]
    [InlineData("DE", "19")]
    [InlineData("FR", "20")]
    [InlineData("FI", "25.5")]
    [InlineData("EE", "24")]
    [InlineData("SK", "23")]
    [InlineData("RO", "21")]
    [InlineData("GR", "24")]
    [InlineData("HU", "27")]
    [InlineData("LU", "17")]
    public void The_rate_table_holds_the_current_standard_rates(string country, string rate)
    {
        Assert.Equal(decimal.Parse(rate, CultureInfo.InvariantCulture), Rates.StandardRate(country));
    }

    [Fact]
    public void The_rate_table_knows_greece_as_gr_and_nothing_outside_the_eu()
    {
        Assert.True(Rates.IsMember("GR"));
        Assert.True(Rates.IsMember("gr"));
        Assert.False(Rates.IsMember("EL"));
        Assert.False(Rates.IsMember("GB"));
        Assert.False(Rates.IsMember("CH"));
        Assert.Throws<ArgumentException>(() => Rates.StandardRate("US"));
    }

    [Theory]
    [InlineData("EL 094 259 216", "GR", "094259216")]
    [InlineData("el094259216", "GR", "094259216")]
    [InlineData("de 123.456-789", "DE", "123456789")]
    [InlineData("ATU12345678", "AT", "U12345678")]
    [InlineData("NL123456789B01", "NL", "123456789B01")]
    public void A_vat_id_splits_into_its_country_and_number(string vatId, string country, string number)
    {
        Assert.Equal((country, number), VatDecision.SplitVatId(vatId));
    }

    [Theory]
    [InlineData("")]
    [InlineData("DE")]
    [InlineData("123456789")]
    public void Something_without_a_country_prefix_is_not_a_vat_id(string vatId)
    {
        Assert.Throws<ArgumentException>(() => VatDecision.SplitVatId(vatId));
    }

    private static VatOutcome Decide(VatInput input) => VatDecision.Decide(input, Rates);

    private static VatInput Sale(
        string seller, string buyer, long charged, string? sellerVatId = SellerVatId, string? buyerVatId = null, VatIdStatus status = VatIdStatus.None, StripeTaxFigures? stripe = null) =>
        new(seller, sellerVatId, buyer, buyerVatId, status, charged, stripe);
}

public static class VatArbitraries
{
    private static readonly string[] Countries = [.. EuVatRates.Default.Members, "US", "CH", "GB"];

    public static Arbitrary<VatInput> Sales() =>
        (from charged in Gen.OneOf(
                Gen.Choose(0, 10_000).Select(small => (long)small),
                from high in Gen.Choose(0, 1_000_000)
                from low in Gen.Choose(0, 999_999)
                select (high * 1_000_000L) + low,
                Gen.Constant(long.MaxValue / 2))
         from seller in Gen.Elements(EuVatRates.Default.Members.ToArray())
         from buyer in Gen.Elements(Countries)
         from sellerHasVatId in Gen.Elements(true, true, true, false)
         from buyerHasVatId in Gen.Elements(true, false)
         from status in Gen.Elements(Enum.GetValues<VatIdStatus>())
         select new VatInput(
             seller,
             sellerHasVatId ? seller + "123456789" : null,
             buyer,
             buyerHasVatId ? (buyer == "GR" ? "EL" : buyer) + "987654321" : null,
             buyerHasVatId ? status : VatIdStatus.None,
             charged,
             null)).ToArbitrary();
}

[Properties(Arbitrary = [typeof(VatArbitraries)], MaxTest = 2000)]
public sealed class VatDecisionProperties
{
    [Property]
    public bool Net_and_vat_always_sum_to_the_amount_charged(VatInput input)
    {
        var outcome = VatDecision.Decide(input, EuVatRates.Default);
        return outcome.NetMinor + outcome.VatMinor == outcome.GrossMinor
            && outcome.GrossMinor == input.ChargedMinor
            && outcome.VatMinor >= 0
            && outcome.NetMinor >= 0;
    }

    [Property]
    public bool The_vat_is_the_rate_inside_the_charged_amount_rounded_half_up(VatInput input)
    {
        var outcome = VatDecision.Decide(input, EuVatRates.Default);
        if (outcome.Treatment != VatTreatment.Standard)
        {
            return outcome.VatMinor == 0 && outcome.RatePercent == 0m;
        }

        // Decimal carries 28 digits, so for these amounts the quotient is exact enough to round the same way.
        var expected = Math.Round(input.ChargedMinor * outcome.RatePercent / (100m + outcome.RatePercent), MidpointRounding.AwayFromZero);
        return outcome.VatMinor == (long)expected;
    }

    [Property]
    public bool Stripe_figures_that_add_up_are_shown_as_they_are(NonNegativeInt net, NonNegativeInt vat)
    {
        var stripe = new StripeTaxFigures(net.Get, vat.Get, (long)net.Get + vat.Get, null, "standard_rated", "none");
        var outcome = VatDecision.Decide(new VatInput("DE", "DE123456789", "DE", null, VatIdStatus.None, stripe.AmountTotal, stripe), EuVatRates.Default);
        return outcome.NetMinor == net.Get && outcome.VatMinor == vat.Get && outcome.GrossMinor == stripe.AmountTotal;
    }
}
