using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Billing.Payments;

/// <summary>
/// One Checkout Session's payment, in the contract's partition (RowKey <c>payment-{session id}</c>): what was charged,
/// the VAT Stripe computed, and the buyer as Stripe collected them. Its status only moves up
/// (<see cref="PaymentStatus.Rank"/>), so a late older event never undoes a newer state.
/// </summary>
public sealed class PaymentEntity : ITableEntity
{
    public const string RowKeyPrefix = "payment-";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string SessionId { get; set; } = "";

    /// <summary><see cref="PaymentStatus"/>: pending, failed, expired, mismatched or paid.</summary>
    public string Status { get; set; } = PaymentStatus.Pending;

    /// <summary>The created time of the newest Stripe event applied.</summary>
    public DateTimeOffset LastEventAt { get; set; }

    public string? PaymentIntentId { get; set; }

    public string Currency { get; set; } = "";

    public long AmountSubtotalMinor { get; set; }

    public long AmountTaxMinor { get; set; }

    public long AmountTotalMinor { get; set; }

    /// <summary>Stripe Tax's status for the session: <c>complete</c> means its figures are the VAT charged.</summary>
    public string? AutomaticTaxStatus { get; set; }

    /// <summary>The rate of Stripe Tax's breakdown (percent, invariant decimal text: tables have no decimal type), when it gave one.</summary>
    public string? TaxRatePercent { get; set; }

    public string? TaxabilityReason { get; set; }

    /// <summary>none, exempt or reverse.</summary>
    public string? TaxExempt { get; set; }

    public string? CustomerName { get; set; }

    public string? BusinessName { get; set; }

    public string? CustomerEmail { get; set; }

    public string? AddressLine1 { get; set; }

    public string? AddressLine2 { get; set; }

    public string? AddressCity { get; set; }

    public string? AddressPostalCode { get; set; }

    public string? AddressState { get; set; }

    public string? AddressCountry { get; set; }

    /// <summary>The tax IDs the customer entered, as <c>type:value</c> joined by <c>,</c> (<c>eu_vat:DE123456789</c>).</summary>
    public string? TaxIds { get; set; }

    public DateTimeOffset? PaidAt { get; set; }

    /// <summary>The contract was already paid through another session: this payment is owed back in full.</summary>
    public bool Duplicate { get; set; }

    /// <summary>What Stripe reports refunded of this payment so far (cumulative, minor units).</summary>
    public long RefundedMinor { get; set; }

    /// <summary>
    /// What was released of this payment to the provider (minor units), by the release timer (docs/ledger.md), changed
    /// with its ledger transaction. Released money stays with the provider: the refund rules cap refunds by it.
    /// </summary>
    public long ReleasedMinor { get; set; }

    /// <summary>How it was paid: null or <see cref="PaymentMethods.Stripe"/> (a Checkout Session), or <see cref="PaymentMethods.Icpay"/>,
    /// whose row is keyed by the ICPay payment id in <see cref="SessionId"/>.</summary>
    public string? Method { get; set; }

    /// <summary>
    /// For a payment whose VAT this app decided when it set the amount (ICPay): the <see cref="Vat.VatTreatment"/> name
    /// and the source of the figures. The invoice then shows these figures (<see cref="AmountSubtotalMinor"/>,
    /// <see cref="AmountTaxMinor"/>, <see cref="AmountTotalMinor"/>, <see cref="TaxRatePercent"/>) as charged.
    /// </summary>
    public string? VatTreatment { get; set; }

    public string? VatSource { get; set; }

    /// <summary>The processor's transaction reference printed on the invoice (ICPay's transaction id).</summary>
    public string? TransactionReference { get; set; }

    /// <summary>ICPay: the token, its network and what was paid in its smallest units (a decimal string, as ICPay sends it).</summary>
    public string? Token { get; set; }

    public string? Network { get; set; }

    public string? TokenAmount { get; set; }

    /// <summary>Why a payment was not accepted as paid (<see cref="PaymentStatus.Mismatched"/>), for the admin who settles it.</summary>
    public string? MismatchReason { get; set; }

    /// <summary>When the last release of this payment was made, and the end of the period it released.</summary>
    public DateTimeOffset? ReleasedThrough { get; set; }

    /// <summary>
    /// What a lost dispute's chargeback took from this payment's escrow (the renter's unused share, docs/ledger.md): it
    /// counts as refunded for the refund rules, and Stripe does not report it as a refund.
    /// </summary>
    public long ChargedBackMinor { get; set; }

    /// <summary>What the payment still holds in escrow: charged, less refunded, charged back and released.</summary>
    public long EscrowHeldMinor => Math.Max(0, AmountTotalMinor - RefundedMinor - ChargedBackMinor - ReleasedMinor);

    public static string RowKeyFor(string sessionId) => RowKeyPrefix + sessionId;

    /// <summary>The first EU VAT ID (or other VAT ID) the customer entered in Checkout.</summary>
    public string? VatId() =>
        (TaxIds ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split(':', 2))
            .Where(pair => pair.Length == 2 && pair[0].EndsWith("_vat", StringComparison.Ordinal))
            .Select(pair => pair[1])
            .FirstOrDefault();
}

public static class PaymentStatus
{
    public const string Pending = "pending";
    public const string Failed = "failed";
    public const string Expired = "expired";
    public const string Paid = "paid";

    /// <summary>Money came in but not as asked (another amount, token or currency, or ICPay's own <c>mismatched</c>): not accepted as paid; an admin settles it.</summary>
    public const string Mismatched = "mismatched";

    /// <summary>Paid outranks every other state; failed, expired and mismatched outrank pending. A status only moves to a higher rank.</summary>
    public static int Rank(string status) => status switch
    {
        Paid => 3,
        Failed or Expired or Mismatched => 2,
        Pending => 1,
        _ => 0,
    };
}

public static class PaymentMethods
{
    public const string Stripe = "stripe";
    public const string Icpay = "icpay";
}
