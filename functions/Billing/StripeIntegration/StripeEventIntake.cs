using System.Text.Json;
using DecentCloud.Functions.Platform.Queues;

namespace DecentCloud.Functions.Billing.StripeIntegration;

/// <summary>
/// The one way a Stripe event enters processing, whether the webhook delivered it or the reconciler found it in
/// Stripe's event list: a message on the <c>stripe-events</c> queue that never expires, carrying the body when it fits
/// (one storage write, close to a bare queue put; docs/performance.md). A body too large for a message is recorded in
/// its <c>StripeEvents</c> row first and the message carries only the id. <see cref="ProcessStripeEvent"/> records the
/// event (dedupe by event id) and applies it.
/// </summary>
public sealed class StripeEventIntake(StripeEventStore events, QueueWriter queues)
{
    public const string QueueName = "stripe-events";

    public async Task QueueAsync(StripeEventHead head, string body, DateTimeOffset receivedAt, CancellationToken cancellationToken)
    {
        // Serialized once: its size decides whether the body travels in the message or waits in the event's row.
        var message = JsonSerializer.SerializeToUtf8Bytes(new StripeEventMessage(head.Id, head.Type, head.Created, body), QueueJson.Options);
        if (message.Length > QueueWriter.MaxInlineJsonBytes)
        {
            await events.TryRecordAsync(head, body, receivedAt, cancellationToken);
            message = JsonSerializer.SerializeToUtf8Bytes(new StripeEventMessage(head.Id, head.Type, head.Created, null), QueueJson.Options);
        }

        await queues.SendSerializedAsync(QueueName, BinaryData.FromBytes(message), QueueWriter.Forever, cancellationToken);
    }

    /// <summary>Queues an event that already has its row (a re-drive): the message carries only the id.</summary>
    public Task RequeueAsync(string eventId, string type, DateTimeOffset created, CancellationToken cancellationToken) =>
        queues.SendSerializedAsync(
            QueueName,
            BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(new StripeEventMessage(eventId, type, created, null), QueueJson.Options)),
            QueueWriter.Forever,
            cancellationToken);
}
