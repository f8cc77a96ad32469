using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Billing.Icpay;

/// <summary>
/// What the ICPay checkout last asked the renter to pay for a contract, in the contract's partition (RowKey
/// <c>icpay-checkout</c>): the VAT decided on the net price, the gross, the same in token units, and the buyer it was
/// decided for. The webhook accepts a payment as paid only for exactly <see cref="AmountUnits"/> of this token, and the
/// invoice shows these figures and this buyer.
/// </summary>
public sealed class IcpayQuoteEntity : ITableEntity
{
    public const string QuoteRowKey = "icpay-checkout";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = QuoteRowKey;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string Currency { get; set; } = "";

    public long NetMinor { get; set; }

    public long VatMinor { get; set; }

    public long GrossMinor { get; set; }

    /// <summary>Percent, invariant decimal text (tables have no decimal type).</summary>
    public string VatRatePercent { get; set; } = "0";

    /// <summary>The <see cref="Vat.VatTreatment"/> name.</summary>
    public string VatTreatment { get; set; } = "";

    public string VatSource { get; set; } = "";

    public string Token { get; set; } = "";

    public string Shortcode { get; set; } = "";

    public int Decimals { get; set; }

    /// <summary>The gross in the token's smallest units: what the renter is asked to pay, and all that is accepted as paid.</summary>
    public long AmountUnits { get; set; }

    public string BuyerName { get; set; } = "";

    public string BuyerLine1 { get; set; } = "";

    public string? BuyerLine2 { get; set; }

    public string BuyerCity { get; set; } = "";

    public string BuyerPostalCode { get; set; } = "";

    public string BuyerCountry { get; set; } = "";

    public string? BuyerVatId { get; set; }

    public string? BuyerEmail { get; set; }

    public DateTimeOffset QuotedAt { get; set; }
}
