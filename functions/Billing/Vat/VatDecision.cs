namespace DecentCloud.Functions.Billing.Vat;

/// <summary>
/// What Stripe Tax computed for a payment (Checkout Session <c>amount_subtotal</c>, <c>total_details.amount_tax</c>,
/// <c>amount_total</c>, the tax breakdown's rate and <c>taxability_reason</c>, <c>customer_details.tax_exempt</c>).
/// <paramref name="AmountSubtotal"/> is the net: tax-exclusive and after discounts, so that net + tax = total.
/// </summary>
public sealed record StripeTaxFigures(long AmountSubtotal, long AmountTax, long AmountTotal, decimal? RatePercent, string? TaxabilityReason, string? TaxExempt);

/// <summary>What VIES said about a buyer's VAT ID (see <see cref="VatIdChecks"/>).</summary>
public enum VatIdStatus
{
    /// <summary>The buyer gave no VAT ID.</summary>
    None,

    Valid,

    Invalid,

    /// <summary>VIES could not answer; treated like no VAT ID for reverse charge.</summary>
    Unverified,
}

/// <param name="SellerCountry">ISO 3166-1 alpha-2 (<c>INVOICE_SELLER_COUNTRY</c>).</param>
/// <param name="BuyerCountry">ISO 3166-1 alpha-2 (GR for Greece) of the buyer's billing address.</param>
/// <param name="ChargedMinor">What the buyer paid, in minor units.</param>
/// <param name="Stripe">Stripe Tax's figures, when Stripe computed tax for the payment.</param>
public sealed record VatInput(
    string SellerCountry,
    string? SellerVatId,
    string BuyerCountry,
    string? BuyerVatId,
    VatIdStatus BuyerVatIdStatus,
    long ChargedMinor,
    StripeTaxFigures? Stripe);

/// <param name="RatePercent">As charged, with its decimals (19, 25.5); 0 unless <see cref="VatTreatment.Standard"/>.</param>
/// <param name="Source"><c>stripe-tax</c>, or <c>rate-table:{asOf}</c> for the EU standard-rate table.</param>
/// <param name="Notes">The invoice notes for the treatment (<see cref="VatNotes"/>).</param>
public sealed record VatOutcome(VatTreatment Treatment, decimal RatePercent, long NetMinor, long VatMinor, long GrossMinor, string Source, IReadOnlyList<string> Notes);

/// <summary>
/// The VAT an invoice shows for one payment (docs/billing.md, "VAT"). The fix over the original
/// project: the VAT shown is what was charged. Stripe Tax's figures win when present; otherwise nothing was added
/// on top of the price, so the table's VAT is taken out of the amount charged, never added to it.
/// </summary>
public static class VatDecision
{
    public const string StripeSource = "stripe-tax";

    private const int HundredthsPerUnit = 100;

    public static VatOutcome Decide(VatInput input, EuVatRates rates)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(rates);
        ArgumentOutOfRangeException.ThrowIfNegative(input.ChargedMinor);
        return input.Stripe is { } stripe ? FromStripe(input, stripe, rates) : FromTable(input, rates);
    }

    /// <summary>
    /// Splits a VAT ID (<see cref="VatIds.Normalize"/> applied) into the member state it belongs to, as an ISO
    /// 3166-1 code for the rate table (EL becomes GR), and the number. VIES still wants the prefix, EL for Greece:
    /// that is the normalized ID's first two letters.
    /// </summary>
    public static (string Country, string Number) SplitVatId(string vatId)
    {
        var normalized = VatIds.Normalize(vatId);
        if (normalized.Length < 3 || !char.IsAsciiLetterUpper(normalized[0]) || !char.IsAsciiLetterUpper(normalized[1]))
        {
            throw new ArgumentException($"'{VatIds.Mask(vatId)}' is not a VAT ID: it needs a two-letter country prefix and a number.", nameof(vatId));
        }

        var prefix = normalized[..2];
        return (prefix == "EL" ? "GR" : prefix, normalized[2..]);
    }

    private static VatOutcome FromStripe(VatInput input, StripeTaxFigures stripe, EuVatRates rates)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stripe.AmountSubtotal);
        ArgumentOutOfRangeException.ThrowIfNegative(stripe.AmountTax);
        ArgumentOutOfRangeException.ThrowIfNegative(stripe.AmountTotal);
        if (stripe.RatePercent is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(input), stripe.RatePercent, "Stripe's tax rate cannot be negative.");
        }

        if ((Int128)stripe.AmountSubtotal + stripe.AmountTax != stripe.AmountTotal)
        {
            throw new ArgumentException(
                $"Stripe's figures do not add up: amount_subtotal {stripe.AmountSubtotal} + amount_tax {stripe.AmountTax} != amount_total {stripe.AmountTotal}.",
                nameof(input));
        }

        var vat = stripe.AmountTax;
        var reverse = string.Equals(stripe.TaxabilityReason, "reverse_charge", StringComparison.Ordinal)
            || string.Equals(stripe.TaxExempt, "reverse", StringComparison.Ordinal);
        // Stripe's reverse-charge reason is in the tax breakdown; where that is missing, the VIES-checked VAT ID decides.
        var treatment = vat != 0 ? VatTreatment.Standard
            : reverse || (HasVatId(input.SellerVatId) && IsReverseCharge(input, input.BuyerCountry.Trim().ToUpperInvariant())) ? VatTreatment.ReverseCharge
            : !HasVatId(input.SellerVatId) ? VatTreatment.NotApplicable
            : !rates.IsMember(input.BuyerCountry) ? VatTreatment.OutsideEu
            : VatTreatment.Standard;

        // With no VAT charged a rate other than 0 would contradict the amount shown next to it.
        // Stripe can name a rate and charge nothing (taxability "not_collecting" where the seller has no registration).
        var rate = treatment == VatTreatment.Standard && vat != 0 ? stripe.RatePercent ?? EffectiveRate(vat, stripe.AmountSubtotal) : 0m;
        return new VatOutcome(treatment, rate, stripe.AmountSubtotal, vat, stripe.AmountTotal, StripeSource, VatNotes.For(treatment));
    }

    /// <summary>
    /// VAT added on top of a net price (tax-exclusive, as Stripe Tax adds it at Checkout), by the same rules as the
    /// rate table below: for a payment whose amount this app sets itself (ICPay, docs/icpay.md). Here
    /// <see cref="VatInput.ChargedMinor"/> is the net price, <see cref="VatInput.Stripe"/> is ignored, and the VAT is
    /// net × rate / 100 rounded half up; the gross is what the buyer is asked to pay, and the outcome is what the
    /// invoice shows.
    /// </summary>
    public static VatOutcome OnTop(VatInput input, EuVatRates rates)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(rates);
        ArgumentOutOfRangeException.ThrowIfNegative(input.ChargedMinor);
        var net = input.ChargedMinor;
        var source = TableSource(rates);
        if (UntaxedTreatment(input, rates) is { } untaxed)
        {
            return new VatOutcome(untaxed, 0m, net, 0, net, source, VatNotes.For(untaxed));
        }

        var rate = rates.StandardRate(input.BuyerCountry.Trim().ToUpperInvariant());
        var vat = VatOf(net, rate);
        return new VatOutcome(VatTreatment.Standard, rate, net, vat, checked(net + vat), source, VatNotes.For(VatTreatment.Standard));
    }

    private static string TableSource(EuVatRates rates) => $"rate-table:{rates.AsOf}";

    private static VatOutcome FromTable(VatInput input, EuVatRates rates)
    {
        var source = TableSource(rates);
        var charged = input.ChargedMinor;
        if (UntaxedTreatment(input, rates) is { } untaxed)
        {
            return new VatOutcome(untaxed, 0m, charged, 0, charged, source, VatNotes.For(untaxed));
        }

        var rate = rates.StandardRate(input.BuyerCountry.Trim().ToUpperInvariant());
        var vat = VatInside(charged, rate);
        return new VatOutcome(VatTreatment.Standard, rate, charged - vat, vat, charged, source, VatNotes.For(VatTreatment.Standard));
    }

    /// <summary>
    /// The treatment when no VAT is charged, or null when the buyer country's standard rate applies: electronically
    /// supplied services to a consumer are taxed where the consumer is (Directive 2006/112/EC, Article 58); for a
    /// domestic sale that is the seller's own country.
    /// </summary>
    private static VatTreatment? UntaxedTreatment(VatInput input, EuVatRates rates)
    {
        if (!HasVatId(input.SellerVatId))
        {
            return VatTreatment.NotApplicable;
        }

        var buyer = input.BuyerCountry.Trim().ToUpperInvariant();
        if (!rates.IsMember(buyer))
        {
            return VatTreatment.OutsideEu;
        }

        return IsReverseCharge(input, buyer) ? VatTreatment.ReverseCharge : null;
    }

    /// <summary>The VAT on a tax-exclusive amount, round half up: net × rate / 100, in exact integer arithmetic on hundredths of a percent.</summary>
    private static long VatOf(long net, decimal ratePercent)
    {
        var rate = (Int128)(long)(ratePercent * HundredthsPerUnit);
        var divisor = (Int128)100 * HundredthsPerUnit;
        return (long)(((2 * (Int128)net * rate) + divisor) / (2 * divisor));
    }

    /// <summary>
    /// A business in another member state than the seller's, with a VAT ID VIES confirmed. The VAT ID must belong
    /// to the buyer's country: an ID of the seller's own country would make it a domestic sale.
    /// </summary>
    private static bool IsReverseCharge(VatInput input, string buyerCountry)
    {
        if (input.BuyerVatIdStatus != VatIdStatus.Valid || !HasVatId(input.BuyerVatId))
        {
            return false;
        }

        var normalized = VatIds.Normalize(input.BuyerVatId!);
        if (!VatIds.IsWellFormed(normalized))
        {
            return false;
        }

        var (idCountry, _) = SplitVatId(normalized);
        return idCountry == buyerCountry && !string.Equals(buyerCountry, input.SellerCountry.Trim(), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The VAT contained in a tax-inclusive amount, round half up: charged × rate / (100 + rate), in exact integer
    /// arithmetic on hundredths of a percent (EuVatRates holds at most two decimals).
    /// </summary>
    private static long VatInside(long charged, decimal ratePercent)
    {
        var rate = (Int128)(long)(ratePercent * HundredthsPerUnit);
        var divisor = (100 * HundredthsPerUnit) + rate;
        return (long)(((2 * (Int128)charged * rate) + divisor) / (2 * divisor));
    }

    /// <summary>Vat × 100 / net, round half up to two decimals, exactly; 0 when the net is 0.</summary>
    private static decimal EffectiveRate(long vat, long net)
    {
        if (net == 0)
        {
            return 0m;
        }

        var hundredths = ((2 * (Int128)vat * 100 * HundredthsPerUnit) + net) / (2 * (Int128)net);
        return (decimal)hundredths / HundredthsPerUnit;
    }

    private static bool HasVatId(string? vatId) => !string.IsNullOrWhiteSpace(vatId);
}
