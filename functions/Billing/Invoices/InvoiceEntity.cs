using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Billing.Invoices;

/// <summary>
/// An issued invoice or credit note, in the contract's partition (RowKey <c>doc-{payment key}</c>): its number, the
/// whole document as issued (so the PDF can be rendered again from the row alone), where its PDF is, and whether the
/// receipt went out. Written once when the number is assigned; only the PDF and receipt marks change afterwards.
/// </summary>
public sealed class InvoiceEntity : ITableEntity
{
    public const string RowKeyPrefix = "doc-";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string Kind { get; set; } = "";

    public string Number { get; set; } = "";

    public string SessionId { get; set; } = "";

    public DateTimeOffset IssuedAt { get; set; }

    public string Currency { get; set; } = "";

    public long NetMinor { get; set; }

    public long VatMinor { get; set; }

    public long GrossMinor { get; set; }

    public string Treatment { get; set; } = "";

    /// <summary>Who decided the VAT: <c>stripe-tax</c> or <c>rate-table:{date}</c>.</summary>
    public string VatSource { get; set; } = "";

    /// <summary>What VIES said of the buyer's VAT ID when the invoice was issued: None, Valid, Invalid or Unverified.</summary>
    public string BuyerVatIdStatus { get; set; } = "";

    /// <summary>The <see cref="InvoiceDocument"/> as JSON.</summary>
    public string DocumentJson { get; set; } = "";

    public string BlobName { get; set; } = "";

    public DateTimeOffset? PdfWrittenAt { get; set; }

    public long PdfBytes { get; set; }

    /// <summary>Where the receipt goes (invoices only).</summary>
    public string? ReceiptTo { get; set; }

    public DateTimeOffset? ReceiptSentAt { get; set; }

    /// <summary>The queue message now sending the receipt, and until when its claim holds (copies of the work wait for it).</summary>
    public string? ReceiptClaimedBy { get; set; }

    public DateTimeOffset? ReceiptClaimedUntil { get; set; }

    public string? ReceiptMessageId { get; set; }

    public static string RowKeyFor(string paymentKey) => RowKeyPrefix + paymentKey;

    /// <summary><c>YYYY/NUMBER.pdf</c> in the <c>invoices</c> container.</summary>
    public static string BlobNameFor(string number, DateTimeOffset issuedAt) =>
        $"{issuedAt.Year:D4}/{number}.pdf";

    public InvoiceDocument Document() =>
        JsonSerializer.Deserialize<InvoiceDocument>(DocumentJson, Json)
        ?? throw new InvalidDataException($"invoice {Number} of contract {PartitionKey} has no document");

    public static InvoiceEntity For(string contractId, string paymentKey, string sessionId, InvoiceDocument document, string buyerVatIdStatus, string vatSource) => new()
    {
        PartitionKey = contractId,
        RowKey = RowKeyFor(paymentKey),
        Kind = document.Kind.ToString(),
        Number = document.Number,
        SessionId = sessionId,
        IssuedAt = document.IssuedAt,
        Currency = document.Currency,
        NetMinor = document.NetMinor,
        VatMinor = document.VatMinor,
        GrossMinor = document.GrossMinor,
        Treatment = document.Treatment.ToString(),
        VatSource = vatSource,
        BuyerVatIdStatus = buyerVatIdStatus,
        DocumentJson = JsonSerializer.Serialize(document, Json),
        BlobName = BlobNameFor(document.Number, document.IssuedAt),
    };

    /// <summary>Where the PDF is served: the contract's invoice route, or its credit-note route with the note's number.</summary>
    public string Href() => Kind == nameof(InvoiceKind.CreditNote)
        ? $"/api/v1/contracts/{PartitionKey}/credit-notes/{Number}"
        : $"/api/v1/contracts/{PartitionKey}/invoice";

    public InvoiceMetadataView ToView()
    {
        var document = Document();
        return new InvoiceMetadataView(
            Number, Kind, PartitionKey, IssuedAt, document.RefersTo, Currency, NetMinor, document.VatRatePercent, VatMinor, GrossMinor,
            Treatment, VatSource, BuyerVatIdStatus, document.Seller, document.Buyer, document.Description, document.Hours,
            document.PeriodStart, document.PeriodEnd, document.PaymentMethod, document.PaymentReference, document.Notes,
            PdfWrittenAt is null ? null : $"invoices/{BlobName}", PdfBytes, ReceiptSentAt, Href());
    }
}

/// <summary>An invoice or credit note as <c>GET /api/v1/contracts/{id}/invoice/metadata</c> shows it.</summary>
public sealed record InvoiceMetadataView(
    string Number,
    string Kind,
    string ContractId,
    DateTimeOffset IssuedAt,
    string? RefersTo,
    string Currency,
    long NetMinor,
    decimal VatRatePercent,
    long VatMinor,
    long GrossMinor,
    string Treatment,
    string VatSource,
    string BuyerVatIdStatus,
    InvoiceParty Seller,
    InvoiceParty Buyer,
    string Description,
    int Hours,
    DateTimeOffset PeriodStart,
    DateTimeOffset PeriodEnd,
    string PaymentMethod,
    string PaymentReference,
    IReadOnlyList<string> Notes,
    string? Blob,
    long PdfBytes,
    DateTimeOffset? ReceiptSentAt,
    string Href);

/// <summary>The invoice of a contract and the credit notes that refer to it.</summary>
public sealed record ContractInvoicesView(InvoiceMetadataView Invoice, IReadOnlyList<InvoiceMetadataView> CreditNotes);
