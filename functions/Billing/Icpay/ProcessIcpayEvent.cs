using Azure.Storage.Queues.Models;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Platform.Queues;

namespace DecentCloud.Functions.Billing.Icpay;

/// <summary>
/// Queue <c>icpay-events</c>: applies one verified ICPay event, once. The webhook recorded it by its id; an event already
/// processed or ignored (a second message for it) is skipped, one of a type not handled is recorded as ignored, and any
/// failure is left to the queue's retries, then the poison queue and the re-drive timer.
/// </summary>
public sealed partial class ProcessIcpayEvent(IcpayEventStore events, IcpayPayments payments, TimeProvider time, ILogger<ProcessIcpayEvent> logger)
{
    public const string PaymentCompleted = "payment.completed";
    public const string PaymentFailed = "payment.failed";
    public const string PaymentRefunded = "payment.refunded";

    [Function(nameof(ProcessIcpayEvent))]
    public async Task Run([QueueTrigger(IcpayEventMessage.QueueName)] QueueMessage queued, CancellationToken cancellationToken)
    {
        var message = QueueJson.Read<IcpayEventMessage>(queued);
        var record = await events.FindAsync(message.EventId, cancellationToken)
            ?? throw new InvalidOperationException($"ICPay event {message.EventId} is queued but has no row");
        if (record.Status is IcpayEventStatus.Processed or IcpayEventStatus.Ignored)
        {
            LogRedelivered(logger, record.Id, record.Status);
            return;
        }

        var head = IcpayEventJson.Head(record.Body, out _)
            ?? throw new InvalidDataException($"ICPay event {record.Id} was recorded but its body is not an event");
        var outcome = await ApplyAsync(head, record.Body, cancellationToken);
        var kept = await events.MarkAsync(record.Id, outcome.Applied ? IcpayEventStatus.Processed : IcpayEventStatus.Ignored, outcome.Text, time.GetUtcNow(), cancellationToken);
        LogProcessed(logger, record.Id, head.Type, kept, outcome.Text);
    }

    private async Task<EventOutcome> ApplyAsync(IcpayEventHead head, string body, CancellationToken cancellationToken)
    {
        if (head.Type is not (PaymentCompleted or PaymentFailed or PaymentRefunded))
        {
            return EventOutcome.Ignored($"{head.Type} is not handled");
        }

        // The body was signed by ICPay: a payment object without an id would fail alike on every retry.
        if (IcpayEventJson.Payment(body, out var problem) is not { } payment)
        {
            return EventOutcome.Ignored($"{head.Type} cannot be applied: {problem}");
        }

        return head.Type switch
        {
            PaymentCompleted => await payments.CompletedAsync(payment, head.Created, cancellationToken),
            PaymentFailed => await payments.FailedAsync(payment, head.Created, cancellationToken),
            _ => await payments.RefundedAsync(payment, head.Created, cancellationToken),
        };
    }

    [LoggerMessage(EventId = 8705, Level = LogLevel.Information, Message = "ICPay event {EventId} ({Type}) is {Status}: {Outcome}")]
    private static partial void LogProcessed(ILogger logger, string eventId, string type, string status, string outcome);

    [LoggerMessage(EventId = 8706, Level = LogLevel.Information, Message = "ICPay event {EventId} queued again; it was {Status} before, nothing to do")]
    private static partial void LogRedelivered(ILogger logger, string eventId, string status);
}
