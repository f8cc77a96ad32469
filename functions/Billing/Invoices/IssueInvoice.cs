using Azure.Storage.Queues.Models;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Platform.Queues;

namespace DecentCloud.Functions.Billing.Invoices;

/// <summary>
/// Queue <c>billing-invoices</c>: issues the invoice of a recorded payment, or the credit note of a recorded refund.
/// While the seller settings are missing the payment stays recorded and the work is put back for later, with an error
/// in the log each time, rather than spending the queue's retries.
/// </summary>
public sealed partial class IssueInvoice(
    ContractRows rows,
    InvoiceIssuer issuer,
    QueueWriter queues,
    Microsoft.Extensions.Options.IOptions<QueueHostOptions> queueOptions,
    ILogger<IssueInvoice> logger)
{
    public static readonly TimeSpan SellerRetryDelay = TimeSpan.FromMinutes(10);

    public static readonly TimeSpan InvoiceRetryDelay = TimeSpan.FromMinutes(1);

    [Function(nameof(IssueInvoice))]
    public async Task Run([QueueTrigger(InvoiceWork.QueueName)] QueueMessage queued, CancellationToken cancellationToken)
    {
        var work = QueueJson.Read<InvoiceWork>(queued);
        var payment = await rows.FindAsync<PaymentEntity>(work.ContractId, PaymentEntity.RowKeyFor(work.SessionId), cancellationToken);
        if (payment is not { Status: PaymentStatus.Paid })
        {
            throw new PaymentNotRecordedYetException($"no paid payment of session {work.SessionId} on contract {work.ContractId}");
        }

        try
        {
            if (work.CreditNoteRowKey is null)
            {
                await issuer.IssueInvoiceAsync(payment, cancellationToken);
                return;
            }

            var refund = await rows.FindAsync<CreditNoteEntity>(work.ContractId, work.CreditNoteRowKey, cancellationToken)
                ?? throw new InvalidOperationException($"refund row {work.CreditNoteRowKey} of contract {work.ContractId} does not exist");
            await issuer.IssueCreditNoteAsync(payment, refund, cancellationToken);
        }
        catch (InvoiceNotIssuedYetException ex) when (queued.DequeueCount >= queueOptions.Value.MaxDequeueCount)
        {
            // The invoice usually follows within moments, so the queue's own retries come first; on the last one the
            // work waits for the invoice (which may itself wait for seller settings) instead of going to the poison queue.
            LogWaiting(logger, ex.Message, InvoiceRetryDelay.TotalMinutes);
            await queues.SendAsync(InvoiceWork.QueueName, work, InvoiceRetryDelay, cancellationToken);
        }
        catch (SellerNotConfiguredException ex)
        {
            LogSellerMissing(logger, ex, work.ContractId, work.SessionId, SellerRetryDelay.TotalMinutes);
            await queues.SendAsync(InvoiceWork.QueueName, work, SellerRetryDelay, cancellationToken);
        }
    }

    [LoggerMessage(EventId = 8043, Level = LogLevel.Information, Message = "{Reason}; tried again in {Minutes} minutes")]
    private static partial void LogWaiting(ILogger logger, string reason, double minutes);

    [LoggerMessage(EventId = 8042, Level = LogLevel.Error, Message = "Invoice for contract {ContractId} (session {SessionId}) not issued; the payment is kept and issuing is tried again in {Minutes} minutes")]
    private static partial void LogSellerMissing(ILogger logger, Exception exception, string contractId, string sessionId, double minutes);
}
