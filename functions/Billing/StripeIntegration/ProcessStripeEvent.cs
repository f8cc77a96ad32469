using Azure.Storage.Queues.Models;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Platform.Queues;
using Stripe;
using Stripe.Checkout;

namespace DecentCloud.Functions.Billing.StripeIntegration;

/// <summary>
/// Queue <c>stripe-events</c>: applies one verified Stripe event, once. An event already processed (a redelivery) is
/// skipped; one we do not handle is recorded as ignored and not retried; one Stripe.net cannot read (a field of a type
/// its model cannot hold) is recorded as unreadable, logged as an error once and not retried. Any other failure is left
/// to the queue's retries.
/// </summary>
public sealed partial class ProcessStripeEvent(
    StripeEventStore events,
    SessionPayments sessions,
    ChargeEvents charges,
    TimeProvider time,
    ILogger<ProcessStripeEvent> logger)
{
    /// <summary>The event types this function applies; every other type is recorded as ignored. The poller asks Stripe for these.</summary>
    public static readonly IReadOnlyList<string> HandledTypes =
    [
        EventTypes.CheckoutSessionCompleted,
        EventTypes.CheckoutSessionAsyncPaymentSucceeded,
        EventTypes.CheckoutSessionAsyncPaymentFailed,
        EventTypes.CheckoutSessionExpired,
        EventTypes.ChargeRefunded,
        EventTypes.ChargeDisputeCreated,
        EventTypes.ChargeDisputeClosed,
    ];

    [Function(nameof(ProcessStripeEvent))]
    public async Task Run([QueueTrigger(StripeWebhook.QueueName)] QueueMessage queued, CancellationToken cancellationToken)
    {
        var message = QueueJson.Read<StripeEventMessage>(queued);
        var record = await RecordAsync(message, queued.InsertedOn, cancellationToken);
        if (record.Status is StripeEventStatus.Processed or StripeEventStatus.Ignored or StripeEventStatus.Unreadable)
        {
            LogRedelivered(logger, message.EventId, record.Status);
            return;
        }

        // The signature was checked at the webhook. The API version is not enforced: the fields used here are the
        // same across release trains, and refusing would only leave events unprocessed (see docs/billing.md).
        Event stripeEvent;
        try
        {
            stripeEvent = StripeEventJson.Parse(record.Body);
        }
        catch (UnreadableStripeEventException ex)
        {
            // The body is the one Stripe signed: every retry would fail the same way and end in the poison queue.
            await events.MarkAsync(message.EventId, StripeEventStatus.Unreadable, ex.Message, time.GetUtcNow(), cancellationToken);
            LogUnreadable(logger, ex, message.EventId, message.Type);
            return;
        }

        if (!StripeVersions.SameTrain(stripeEvent.ApiVersion))
        {
            LogOtherApiVersion(logger, stripeEvent.Id, stripeEvent.ApiVersion ?? "(none)", StripeConfiguration.ApiVersion);
        }

        var outcome = await ApplyAsync(stripeEvent, cancellationToken);
        var status = outcome.Applied ? StripeEventStatus.Processed : StripeEventStatus.Ignored;
        var kept = await events.MarkAsync(message.EventId, status, outcome.Text, time.GetUtcNow(), cancellationToken);
        if (kept != status)
        {
            LogAlreadyFurther(logger, message.EventId, kept, status);
        }

        LogProcessed(logger, message.EventId, message.Type, outcome.Text);
    }

    /// <summary>The event's row, written from the message on its first delivery (the dedupe by event id).</summary>
    private async Task<StripeEventRecord> RecordAsync(StripeEventMessage message, DateTimeOffset? insertedOn, CancellationToken cancellationToken)
    {
        if (await events.FindAsync(message.EventId, cancellationToken) is { } recorded)
        {
            return recorded;
        }

        var head = message.Body is null ? null : StripeEventJson.Head(message.Body);
        if (head is null || head.Id != message.EventId)
        {
            throw new InvalidDataException($"Stripe event {message.EventId} has no row and its message carries no body of that event");
        }

        // Recorded here on first delivery; a concurrent copy that recorded it first is read back.
        return await events.TryRecordAsync(head, message.Body!, insertedOn ?? time.GetUtcNow(), cancellationToken)
            ?? await events.FindAsync(message.EventId, cancellationToken)
            ?? throw new InvalidOperationException($"Stripe event {message.EventId} was recorded and cannot be read back");
    }

    private Task<EventOutcome> ApplyAsync(Event stripeEvent, CancellationToken cancellationToken)
    {
        var at = new DateTimeOffset(DateTime.SpecifyKind(stripeEvent.Created, DateTimeKind.Utc));
        return (stripeEvent.Type, stripeEvent.Data?.Object) switch
        {
            (EventTypes.CheckoutSessionCompleted, Session { PaymentStatus: "paid" or "no_payment_required" } session) => sessions.PaidAsync(session, at, cancellationToken),
            (EventTypes.CheckoutSessionCompleted, Session session) => sessions.PendingAsync(session, at, cancellationToken),
            (EventTypes.CheckoutSessionAsyncPaymentSucceeded, Session session) => sessions.PaidAsync(session, at, cancellationToken),
            (EventTypes.CheckoutSessionAsyncPaymentFailed, Session session) => sessions.FailedAsync(session, at, cancellationToken),
            (EventTypes.CheckoutSessionExpired, Session session) => sessions.ExpiredAsync(session, at, cancellationToken),
            (EventTypes.ChargeRefunded, Charge charge) => charges.RefundedAsync(charge, at, cancellationToken),
            (EventTypes.ChargeDisputeCreated or EventTypes.ChargeDisputeClosed, Dispute dispute) => charges.DisputeAsync(dispute, at, cancellationToken),
            _ => Task.FromResult(EventOutcome.Ignored($"{stripeEvent.Type} is not handled")),
        };
    }

    [LoggerMessage(EventId = 8012, Level = LogLevel.Information, Message = "Stripe event {EventId} ({Type}): {Outcome}")]
    private static partial void LogProcessed(ILogger logger, string eventId, string type, string outcome);

    [LoggerMessage(EventId = 8014, Level = LogLevel.Information, Message = "Stripe event {EventId} delivered again; it was {Status} before, nothing to do")]
    private static partial void LogRedelivered(ILogger logger, string eventId, string status);

    [LoggerMessage(EventId = 8100, Level = LogLevel.Information, Message = "Stripe event {EventId} stays {Kept}: another copy got further than this one's {Status}")]
    private static partial void LogAlreadyFurther(ILogger logger, string eventId, string kept, string status);

    [LoggerMessage(EventId = 8200, Level = LogLevel.Error, Message = "Stripe event {EventId} ({Type}) cannot be read and is marked unreadable, not retried; its body is kept in its row")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string eventId, string type);

    [LoggerMessage(EventId = 8013, Level = LogLevel.Warning, Message = "Stripe event {EventId} has API version {ApiVersion}, not the {Expected} train this app is built with; processed anyway")]
    private static partial void LogOtherApiVersion(ILogger logger, string eventId, string apiVersion, string expected);
}

internal static class StripeVersions
{
    /// <summary>Stripe.net's own rule: versions of one release train share the part after the dot (<c>2026-10-28.endive</c>).</summary>
    public static bool SameTrain(string? apiVersion) =>
        apiVersion is not null && apiVersion.Contains('.', StringComparison.Ordinal)
        && string.Equals(apiVersion[(apiVersion.IndexOf('.', StringComparison.Ordinal) + 1)..], StripeConfiguration.ApiVersion[(StripeConfiguration.ApiVersion.IndexOf('.', StringComparison.Ordinal) + 1)..], StringComparison.Ordinal);
}
