using Azure.Storage.Queues.Models;
using DecentCloud.Functions.Billing.Invoices;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Platform.Queues;

namespace DecentCloud.Functions.Billing.Receipts;

/// <summary>
/// Queue <c>billing-receipts</c>: emails the receipt of an issued invoice with its PDF attached, once per payment, and
/// likewise each credit note once (the buyer learns of the refund with the document that corrects the invoice). A
/// SendGrid failure throws, so the queue retries it and after the last attempt the message waits in
/// <c>billing-receipts-poison</c> for an admin to replay (docs/operations.md). SendGrid has no idempotency key: the
/// sent mark is written right after its 202, so only a crash between the two could send a second copy.
/// </summary>
public sealed partial class SendReceipt(
    ContractRows rows,
    InvoiceBlobs blobs,
    ReceiptMailer mailer,
    QueueWriter queues,
    TimeProvider time,
    ILogger<SendReceipt> logger)
{
    /// <summary>How long one delivery holds the right to send; a crashed sender's claim runs out and a copy takes over.</summary>
    public static readonly TimeSpan ClaimFor = TimeSpan.FromMinutes(2);

    [Function(nameof(SendReceipt))]
    public async Task Run([QueueTrigger(ReceiptWork.QueueName)] QueueMessage queued, CancellationToken cancellationToken)
    {
        var work = QueueJson.Read<ReceiptWork>(queued);
        if (await ClaimAsync(work, queued.MessageId, cancellationToken) is not { } invoice)
        {
            return;
        }

        var document = invoice.Document();
        var pdf = await blobs.ReadAsync(invoice.BlobName, cancellationToken);
        var amount = MoneyFormat.Format(invoice.GrossMinor, invoice.Currency);
        var issued = DateOnly.FromDateTime(invoice.IssuedAt.UtcDateTime);
        var email = document.Kind == InvoiceKind.CreditNote
            ? ReceiptEmail.ForCreditNote(invoice.Number, document.RefersTo ?? "", work.ContractId, document.Buyer.Name, invoice.ReceiptTo!, amount, issued, pdf, invoice.RowKey)
            : ReceiptEmail.For(invoice.Number, work.ContractId, document.Buyer.Name, invoice.ReceiptTo!, amount, issued, pdf, work.SessionId);
        string? messageId;
        try
        {
            messageId = await mailer.SendAsync(email, cancellationToken);
        }
        catch (EmailSendException)
        {
            // Give the claim back so an admin's replay (a new message) need not wait for it to run out.
            await ReleaseClaimAsync(invoice);
            throw;
        }

        for (var attempt = 0; attempt < 5; attempt++)
        {
            invoice.ReceiptSentAt = time.GetUtcNow();
            invoice.ReceiptMessageId = messageId;
            if (await rows.TryReplaceAsync(invoice, cancellationToken))
            {
                return;
            }

            invoice = await FindAsync(work, cancellationToken);
        }

        throw new InvalidOperationException($"marking the receipt of {invoice.Number} sent: the row kept changing");
    }

    /// <summary>
    /// The invoice, once this delivery holds the claim to send its receipt; null when there is nothing to send (sent
    /// already, no address) or another delivery holds the claim, in which case this work comes back when the claim ends.
    /// Copies of the work arrive together (every delivery of a payment event queues one), so the claim is what makes one email.
    /// </summary>
    private async Task<InvoiceEntity?> ClaimAsync(ReceiptWork work, string messageId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var invoice = await FindAsync(work, cancellationToken);
            if (invoice.ReceiptSentAt is not null)
            {
                return null;
            }

            if (string.IsNullOrWhiteSpace(invoice.ReceiptTo))
            {
                LogNoAddress(logger, invoice.Number, work.ContractId);
                return null;
            }

            var now = time.GetUtcNow();
            if (invoice.ReceiptClaimedUntil > now && invoice.ReceiptClaimedBy != messageId)
            {
                await queues.SendAsync(ReceiptWork.QueueName, work, invoice.ReceiptClaimedUntil - now + TimeSpan.FromSeconds(1), cancellationToken);
                return null;
            }

            invoice.ReceiptClaimedBy = messageId;
            invoice.ReceiptClaimedUntil = now + ClaimFor;
            if (await rows.TryReplaceAsync(invoice, cancellationToken))
            {
                return invoice;
            }
        }

        throw new InvalidOperationException($"claiming the receipt of session {work.SessionId}: the invoice row kept changing");
    }

    private async Task ReleaseClaimAsync(InvoiceEntity invoice)
    {
        invoice.ReceiptClaimedUntil = null;
        try
        {
            await rows.TryReplaceAsync(invoice, CancellationToken.None);
        }
        catch (Azure.RequestFailedException ex)
        {
            // The send failure is the error that matters; the claim then simply runs out.
            LogClaimKept(logger, ex, invoice.Number);
        }
    }

    private async Task<InvoiceEntity> FindAsync(ReceiptWork work, CancellationToken cancellationToken) =>
        await rows.FindAsync<InvoiceEntity>(work.ContractId, work.RowKey, cancellationToken)
            ?? throw new InvalidOperationException($"no issued document {work.RowKey} of contract {work.ContractId}");

    [LoggerMessage(EventId = 8051, Level = LogLevel.Warning, Message = "Could not release the receipt claim of {Number}; it runs out by itself")]
    private static partial void LogClaimKept(ILogger logger, Exception exception, string number);

    [LoggerMessage(EventId = 8050, Level = LogLevel.Warning, Message = "No receipt sent for {Number} of contract {ContractId}: there is no email address for the buyer")]
    private static partial void LogNoAddress(ILogger logger, string number, string contractId);
}
