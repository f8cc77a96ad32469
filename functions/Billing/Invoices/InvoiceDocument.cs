using DecentCloud.Functions.Billing.Vat;

namespace DecentCloud.Functions.Billing.Invoices;

public enum InvoiceKind
{
    Invoice,

    /// <summary>A credit note for (part of) a refunded payment; it refers to the invoice it corrects.</summary>
    CreditNote,
}

/// <summary>A seller or buyer as an invoice prints them.</summary>
/// <param name="Country">ISO 3166-1 alpha-2.</param>
public sealed record InvoiceParty(string Name, string Line1, string? Line2, string City, string PostalCode, string Country, string? VatId);

/// <summary>
/// Everything an invoice or credit note shows, fixed when its number is assigned and stored with it, so that the
/// PDF can be rendered again from the record alone. Amounts are positive minor units of <paramref name="Currency"/>
/// for both kinds; a credit note prints them as credited.
/// </summary>
/// <param name="RefersTo">For a credit note: the number of the invoice it corrects.</param>
/// <param name="Description">The line item: the offering's name.</param>
/// <param name="VatRatePercent">As charged, with its decimals (19, 8.1, 25.5).</param>
/// <param name="PaymentMethod">As the buyer knows it ("card (Stripe)").</param>
/// <param name="PaymentReference">The payment's reference at the processor (the payment intent id).</param>
/// <param name="Notes">Printed under the totals: the VAT notes (<see cref="VatNotes"/>) and any other.</param>
public sealed record InvoiceDocument(
    InvoiceKind Kind,
    string Number,
    DateTimeOffset IssuedAt,
    string? RefersTo,
    InvoiceParty Seller,
    string? SellerIban,
    InvoiceParty Buyer,
    string Description,
    int Hours,
    DateTimeOffset PeriodStart,
    DateTimeOffset PeriodEnd,
    string Currency,
    long NetMinor,
    decimal VatRatePercent,
    long VatMinor,
    long GrossMinor,
    VatTreatment Treatment,
    string PaymentMethod,
    string PaymentReference,
    string ContractId,
    IReadOnlyList<string> Notes);
