using System.Globalization;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Billing.Vat;
using DecentCloud.Functions.Platform.Queues;
using DecentCloud.Functions.Marketplace.Accounts;
using DecentCloud.Functions.Marketplace.Offerings;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Billing.Invoices;

/// <summary>
/// Issues the invoice of a payment and the credit note of a refund: number, document, PDF, receipt, each step once.
/// The document is fixed in its row when the number is assigned; the PDF is rendered from that row and written
/// once; a retry after any crash picks up at the first step not done.
/// </summary>
public sealed partial class InvoiceIssuer(
    ContractRows rows,
    InvoiceNumbers numbers,
    InvoiceBlobs blobs,
    OfferingStore offerings,
    AccountStore accounts,
    VatIdChecks vatIds,
    EuVatRates rates,
    QueueWriter queues,
    IOptionsMonitor<SellerOptions> seller,
    TimeProvider time,
    ILogger<InvoiceIssuer> logger)
{
    public const string PaymentMethod = "Card or other method via Stripe Checkout";

    public const string IcpayPaymentMethod = "ICPay";

    public async Task<InvoiceEntity> IssueInvoiceAsync(PaymentEntity payment, CancellationToken cancellationToken)
    {
        var invoice = await rows.FindAsync<InvoiceEntity>(payment.PartitionKey, InvoiceEntity.RowKeyFor(payment.SessionId), cancellationToken)
            ?? await NumberInvoiceAsync(payment, cancellationToken);
        await WritePdfAsync(invoice, cancellationToken);
        if (invoice.ReceiptSentAt is null)
        {
            await queues.SendAsync(ReceiptWork.QueueName, new ReceiptWork(invoice.PartitionKey, invoice.SessionId), cancellationToken: cancellationToken);
        }

        return invoice;
    }

    public async Task<InvoiceEntity> IssueCreditNoteAsync(PaymentEntity payment, CreditNoteEntity refund, CancellationToken cancellationToken)
    {
        var paymentKey = refund.RowKey[CreditNoteEntity.RowKeyPrefix.Length..];
        var note = await rows.FindAsync<InvoiceEntity>(payment.PartitionKey, InvoiceEntity.RowKeyFor(paymentKey), cancellationToken);
        if (note is null)
        {
            var invoice = await rows.FindAsync<InvoiceEntity>(payment.PartitionKey, InvoiceEntity.RowKeyFor(payment.SessionId), cancellationToken);
            if (invoice?.PdfWrittenAt is null)
            {
                throw new InvoiceNotIssuedYetException($"refund {refund.RowKey} of contract {payment.PartitionKey}: its invoice is not issued yet");
            }

            var original = invoice.Document();
            var vat = CreditedVat(original, refund);
            var number = await numbers.NumberForAsync(InvoiceNumbers.CreditNotePrefix, paymentKey, payment.PartitionKey, cancellationToken);
            var document = original with
            {
                Kind = InvoiceKind.CreditNote,
                Number = number.Number,
                IssuedAt = number.IssuedAt,
                RefersTo = original.Number,
                NetMinor = refund.RefundedMinor - vat,
                VatMinor = vat,
                GrossMinor = refund.RefundedMinor,
                PaymentReference = refund.ChargeId,
            };
            var entity = InvoiceEntity.For(payment.PartitionKey, paymentKey, payment.SessionId, document, invoice.BuyerVatIdStatus, invoice.VatSource);
            // The buyer gets the credit note where they got the invoice.
            entity.ReceiptTo = invoice.ReceiptTo;
            note = await AddOrFindAsync(entity, cancellationToken);
            LogIssued(logger, note.Number, note.PartitionKey, note.GrossMinor, note.Currency);
        }

        await WritePdfAsync(note, cancellationToken);
        if (note.ReceiptSentAt is null)
        {
            await queues.SendAsync(ReceiptWork.QueueName, new ReceiptWork(note.PartitionKey, note.SessionId, note.RowKey), cancellationToken: cancellationToken);
        }

        return note;
    }

    /// <summary>
    /// The VAT share of a refund: the invoice's VAT × refunded total / gross, rounded half up, less what earlier notes
    /// credited. Counting from the cumulative total makes the notes' VAT sum exactly to the invoice's on a full refund.
    /// </summary>
    public static long CreditedVat(InvoiceDocument invoice, CreditNoteEntity refund)
    {
        if (invoice.GrossMinor == 0)
        {
            return 0;
        }

        long Share(long refunded) => (long)(((Int128)invoice.VatMinor * refunded * 2 + invoice.GrossMinor) / ((Int128)invoice.GrossMinor * 2));
        var cumulative = Math.Min(refund.CumulativeRefundedMinor, invoice.GrossMinor);
        var before = Math.Min(refund.CumulativeRefundedMinor - refund.RefundedMinor, invoice.GrossMinor);
        return Share(cumulative) - Share(before);
    }

    private async Task<InvoiceEntity> NumberInvoiceAsync(PaymentEntity payment, CancellationToken cancellationToken)
    {
        var sellerNow = seller.CurrentValue;
        if (sellerNow.Missing() is { Count: > 0 } missing)
        {
            throw new SellerNotConfiguredException(missing);
        }

        var contract = await rows.ContractAsync(payment.PartitionKey, cancellationToken)
            ?? throw new InvalidOperationException($"issuing the invoice of session {payment.SessionId}: contract {payment.PartitionKey} is gone");
        var billing = await accounts.FindAsync<BillingEntity>(contract.RenterKey, BillingEntity.BillingRowKey, cancellationToken);
        var buyer = Buyer(payment, billing);
        var check = buyer.VatId is { } vatId ? await vatIds.CheckAsync(vatId, cancellationToken) : null;
        var sellerParty = Seller(sellerNow);
        var outcome = AsCharged(payment) ?? VatDecision.Decide(
            new VatInput(sellerParty.Country, sellerParty.VatId, buyer.Country, buyer.VatId, check?.Status ?? VatIdStatus.None, payment.AmountTotalMinor, StripeFigures(payment)),
            rates);

        var offering = await offerings.FindAsync(contract.ProviderKey, contract.OfferingId, cancellationToken);
        var number = await numbers.NumberForAsync(InvoiceNumbers.InvoicePrefix, payment.SessionId, contract.PartitionKey, cancellationToken);
        var paidAt = payment.PaidAt ?? number.IssuedAt;
        var document = new InvoiceDocument(
            InvoiceKind.Invoice, number.Number, number.IssuedAt, null, sellerParty, Blank(sellerNow.Iban), buyer,
            offering?.Name ?? $"Offering {contract.OfferingId}", contract.Hours, paidAt, paidAt.AddHours(contract.Hours),
            payment.Currency, outcome.NetMinor, outcome.RatePercent, outcome.VatMinor, outcome.GrossMinor, outcome.Treatment,
            MethodOf(payment), ReferenceOf(payment), contract.PartitionKey, outcome.Notes);
        var entity = InvoiceEntity.For(contract.PartitionKey, payment.SessionId, payment.SessionId, document, (check?.Status ?? VatIdStatus.None).ToString(), outcome.Source);
        entity.ReceiptTo = billing?.InvoiceEmail ?? payment.CustomerEmail
            ?? (await accounts.FindAsync<AccountEntity>(contract.RenterKey, AccountEntity.AccountRowKey, cancellationToken))?.ContactEmail;
        var invoice = await AddOrFindAsync(entity, cancellationToken);
        LogIssued(logger, invoice.Number, invoice.PartitionKey, invoice.GrossMinor, invoice.Currency);
        return invoice;
    }

    private async Task<InvoiceEntity> AddOrFindAsync(InvoiceEntity entity, CancellationToken cancellationToken) =>
        await rows.TryAddAsync(entity, cancellationToken)
            ? entity
            : await rows.FindAsync<InvoiceEntity>(entity.PartitionKey, entity.RowKey, cancellationToken)
                ?? throw new InvalidOperationException($"invoice row {entity.RowKey} of contract {entity.PartitionKey} exists and does not");

    private async Task WritePdfAsync(InvoiceEntity invoice, CancellationToken cancellationToken)
    {
        if (invoice.PdfWrittenAt is not null)
        {
            return;
        }

        var pdf = InvoicePdf.Render(invoice.Document());
        if (!await blobs.TryWriteOnceAsync(invoice.BlobName, pdf, cancellationToken))
        {
            // Written by an earlier attempt that stopped before marking it: the stored PDF stands.
            LogPdfExisted(logger, invoice.Number);
        }

        invoice.PdfWrittenAt = time.GetUtcNow();
        invoice.PdfBytes = pdf.Length;
        if (!await rows.TryReplaceAsync(invoice, cancellationToken))
        {
            // Marked concurrently by another delivery; read the row as it is now.
            var current = await rows.FindAsync<InvoiceEntity>(invoice.PartitionKey, invoice.RowKey, cancellationToken);
            invoice.ReceiptSentAt = current?.ReceiptSentAt;
        }
    }

    private static InvoiceParty Seller(SellerOptions options)
    {
        var address = PostalAddress.FromLines(options.AddressLines());
        return new InvoiceParty(
            options.Name!.Trim(),
            address.Line1,
            address.Line2,
            address.City,
            address.PostalCode,
            options.Country!.Trim().ToUpperInvariant(),
            Blank(options.VatId));
    }

    /// <summary>The buyer as Checkout collected them (the billing address is required there), the saved billing settings filling gaps.</summary>
    private static InvoiceParty Buyer(PaymentEntity payment, BillingEntity? billing)
    {
        var fromCheckout = !string.IsNullOrWhiteSpace(payment.AddressLine1) && !string.IsNullOrWhiteSpace(payment.AddressCountry);
        var name = Blank(payment.BusinessName) ?? Blank(billing?.LegalName) ?? Blank(payment.CustomerName) ?? "Customer";
        var vatId = payment.VatId() ?? Blank(billing?.VatId);
        return fromCheckout || billing is null
            ? new InvoiceParty(name, payment.AddressLine1 ?? "", Blank(payment.AddressLine2), payment.AddressCity ?? "", payment.AddressPostalCode ?? "", payment.AddressCountry ?? "", vatId)
            : new InvoiceParty(name, billing.Line1, billing.Line2, billing.City, billing.PostalCode, billing.Country, vatId);
    }

    /// <summary>As the buyer knows it: Stripe Checkout, or ICPay with the token and its network.</summary>
    public static string MethodOf(PaymentEntity payment) =>
        payment.Method == PaymentMethods.Icpay ? $"{IcpayPaymentMethod} ({payment.Token} on {payment.Network})" : PaymentMethod;

    /// <summary>The processor's reference: the Stripe payment intent, or ICPay's transaction.</summary>
    public static string ReferenceOf(PaymentEntity payment) =>
        payment.Method == PaymentMethods.Icpay ? payment.TransactionReference ?? payment.SessionId : payment.PaymentIntentId ?? payment.SessionId;

    /// <summary>
    /// The VAT decided when the amount was set (an ICPay payment: docs/icpay.md), as charged; null for a payment whose
    /// VAT is decided here (Stripe Tax's figures or the rate table).
    /// </summary>
    private static VatOutcome? AsCharged(PaymentEntity payment)
    {
        if (payment.VatTreatment is null || !Enum.TryParse<VatTreatment>(payment.VatTreatment, out var treatment))
        {
            return null;
        }

        var rate = payment.TaxRatePercent is { } text ? decimal.Parse(text, CultureInfo.InvariantCulture) : 0m;
        return new VatOutcome(treatment, rate, payment.AmountSubtotalMinor, payment.AmountTaxMinor, payment.AmountTotalMinor, payment.VatSource ?? "", VatNotes.For(treatment));
    }

    private static StripeTaxFigures? StripeFigures(PaymentEntity payment) =>
        payment.AutomaticTaxStatus == "complete"
            ? new StripeTaxFigures(
                // Net as charged: total less tax, which stays right if a discount ever makes the subtotal differ.
                payment.AmountTotalMinor - payment.AmountTaxMinor, payment.AmountTaxMinor, payment.AmountTotalMinor,
                payment.TaxRatePercent is { } rate ? decimal.Parse(rate, CultureInfo.InvariantCulture) : null,
                payment.TaxabilityReason, payment.TaxExempt)
            : null;

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    [LoggerMessage(EventId = 8040, Level = LogLevel.Information, Message = "Issued {Number} for contract {ContractId}: {GrossMinor} {Currency}")]
    private static partial void LogIssued(ILogger logger, string number, string contractId, long grossMinor, string currency);

    [LoggerMessage(EventId = 8041, Level = LogLevel.Warning, Message = "PDF of {Number} was already in storage; kept as it is")]
    private static partial void LogPdfExisted(ILogger logger, string number);
}

/// <summary>A credit note waits for the invoice it refers to (issuing that may itself be waiting for seller settings).</summary>
public sealed class InvoiceNotIssuedYetException(string message) : Exception(message);

/// <summary>The seller settings an invoice needs are missing: nothing is issued until they are set.</summary>
public sealed class SellerNotConfiguredException(IReadOnlyList<string> missing)
    : Exception($"invoices cannot be issued until {string.Join(", ", missing)} {(missing.Count == 1 ? "is" : "are")} set")
{
    public IReadOnlyList<string> Missing { get; } = missing;
}
