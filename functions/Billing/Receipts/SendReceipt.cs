using DecentCloud.Functions.Billing.Invoices;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Hosting.Queues;

namespace DecentCloud.Functions.Billing.Receipts;

/// <summary>
/// Queue <c>billing-receipts</c>: emails the receipt of an issued invoice with its PDF attached, once per payment. A
/// SendGrid failure throws, so the queue retries it and after the last attempt the message waits in
/// <c>billing-receipts-poison</c> for an admin to replay (docs/operations.md). SendGrid has no idempotency key: the
/// sent mark is written right after its 202, so only a crash between the two could send a second copy.
/// </summary>
public sealed partial class SendReceipt(ContractRows rows, InvoiceBlobs blobs, ReceiptMailer mailer, TimeProvider time, ILogger<SendReceipt> logger) : IQueueFunction<ReceiptWork>
{
    public async Task Run(ReceiptWork work, CancellationToken cancellationToken)
    {
        var invoice = await rows.FindAsync<InvoiceEntity>(work.ContractId, InvoiceEntity.RowKeyFor(work.SessionId), cancellationToken)
            ?? throw new InvalidOperationException($"no invoice for session {work.SessionId} of contract {work.ContractId}");
        if (invoice.ReceiptSentAt is not null)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(invoice.ReceiptTo))
        {
            LogNoAddress(logger, invoice.Number, work.ContractId);
            return;
        }

        var document = invoice.Document();
        var pdf = await blobs.ReadAsync(invoice.BlobName, cancellationToken);
        var email = ReceiptEmail.For(
            invoice.Number, work.ContractId, document.Buyer.Name, invoice.ReceiptTo, MoneyFormat.Format(invoice.GrossMinor, invoice.Currency),
            DateOnly.FromDateTime(invoice.IssuedAt.UtcDateTime), pdf, work.SessionId);
        var messageId = await mailer.SendAsync(email, cancellationToken);

        for (var attempt = 0; attempt < 5; attempt++)
        {
            invoice.ReceiptSentAt = time.GetUtcNow();
            invoice.ReceiptMessageId = messageId;
            if (await rows.TryReplaceAsync(invoice, cancellationToken))
            {
                return;
            }

            invoice = await rows.FindAsync<InvoiceEntity>(work.ContractId, InvoiceEntity.RowKeyFor(work.SessionId), cancellationToken)
                ?? throw new InvalidOperationException($"invoice row of session {work.SessionId} disappeared");
        }

        throw new InvalidOperationException($"marking the receipt of {invoice.Number} sent: the row kept changing");
    }

    [LoggerMessage(EventId = 8050, Level = LogLevel.Warning, Message = "No receipt sent for {Number} of contract {ContractId}: there is no email address for the buyer")]
    private static partial void LogNoAddress(ILogger logger, string number, string contractId);
}
