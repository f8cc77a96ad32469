namespace DecentCloud.Functions.Billing.Vat;

/// <summary>How VAT applies to one invoice (docs/billing.md, "VAT").</summary>
public enum VatTreatment
{
    /// <summary>VAT charged at a rate (Stripe Tax's, or the EU standard-rate table's).</summary>
    Standard,

    /// <summary>An EU business buyer in another member state with a valid VAT ID accounts for the VAT.</summary>
    ReverseCharge,

    /// <summary>The seller has no VAT ID: no VAT is charged.</summary>
    NotApplicable,

    /// <summary>The buyer is outside the EU: the supply is outside the scope of EU VAT.</summary>
    OutsideEu,
}

/// <summary>The notes an invoice prints for its VAT treatment; the texts are fixed so that tests and accountants can find them.</summary>
public static class VatNotes
{
    public const string ReverseCharge = "Reverse charge: VAT to be accounted for by the recipient, Article 196 of Council Directive 2006/112/EC.";

    public const string NotApplicable = "VAT not applicable: the seller is not registered for VAT.";

    public const string OutsideEu = "Not subject to EU VAT: the place of supply is outside the EU.";

    public static IReadOnlyList<string> For(VatTreatment treatment) => treatment switch
    {
        VatTreatment.ReverseCharge => [ReverseCharge],
        VatTreatment.NotApplicable => [NotApplicable],
        VatTreatment.OutsideEu => [OutsideEu],
        _ => [],
    };
}
