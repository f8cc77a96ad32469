using Azure.Storage.Queues.Models;
using System.Text.Json;
using Azure;
using DecentCloud.Functions.Platform.Queues;

namespace DecentCloud.Functions.Chatwoot.Webhooks;

/// <summary>
/// Queue <c>chatwoot-events</c>: records one verified Chatwoot delivery (dedupe by delivery id), reads it into its typed
/// event and forwards <c>message_created</c>, <c>conversation_created</c> and <c>conversation_status_changed</c> to a
/// queue each, for the features that act on them. Any other event is recorded as ignored and not retried; a delivery
/// already processed (a redelivery) is skipped. A failure is left to the queue's retries and its poison queue.
/// </summary>
public sealed partial class ProcessChatwootEvent(
    ChatwootDeliveries deliveries,
    QueueWriter queues,
    TimeProvider time,
    ILogger<ProcessChatwootEvent> logger)
{
    [Function(nameof(ProcessChatwootEvent))]
    public async Task Run([QueueTrigger(ChatwootWebhook.QueueName)] QueueMessage queued, CancellationToken cancellationToken)
    {
        var message = QueueJson.Read<ChatwootEventMessage>(queued);
        var claim = await deliveries.ClaimAsync(message, queued.MessageId, time.GetUtcNow(), cancellationToken);
        switch (claim.State)
        {
            case ChatwootClaimState.Done:
                LogRedelivered(logger, message.DeliveryId, claim.Status);
                return;
            case ChatwootClaimState.HeldByAnother:
                LogHeldByAnother(logger, message.DeliveryId, claim.ClaimedBy ?? "");
                return;
        }

        try
        {
            var (status, outcome) = await ForwardAsync(message, claim.Body!, cancellationToken);
            await deliveries.MarkAsync(message.DeliveryId, status, outcome, time.GetUtcNow(), cancellationToken);
            LogProcessed(logger, message.DeliveryId, message.Event, outcome);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await ReleaseAsync(message.DeliveryId, queued.MessageId, ex);
            throw;
        }
    }

    // The forwarded messages have the default time-to-live (7 days): until their consumers run, these queues must not
    // grow without end, and a week-old chat event is of no use to a bot.
    private async Task<(string Status, string Outcome)> ForwardAsync(ChatwootEventMessage message, string body, CancellationToken cancellationToken)
    {
        var delivery = new ChatwootDelivery(message.DeliveryId, message.ReceivedAt, message.VerifiedBy, message.ProviderKey);
        switch (ChatwootPayloads.Parse(body))
        {
            case ChatwootMessageEvent { Name: ChatwootPayloads.MessageCreated } created:
                await SendMessageCreatedAsync(new ChatwootMessageCreated(delivery, created.Message), cancellationToken);
                return Forwarded(ChatwootMessageCreated.QueueName);
            case ChatwootConversationEvent { Name: ChatwootPayloads.ConversationCreated } created:
                await queues.SendAsync(ChatwootConversationCreated.QueueName, new ChatwootConversationCreated(delivery, created.Conversation), cancellationToken: cancellationToken);
                return Forwarded(ChatwootConversationCreated.QueueName);
            case ChatwootConversationEvent { Name: ChatwootPayloads.ConversationStatusChanged } changed:
                await queues.SendAsync(ChatwootConversationStatusChanged.QueueName, new ChatwootConversationStatusChanged(delivery, changed.Conversation), cancellationToken: cancellationToken);
                return Forwarded(ChatwootConversationStatusChanged.QueueName);
            case var other:
                return (ChatwootDeliveryStatus.Ignored, $"{other.Name} has no consumer");
        }
    }

    /// <summary>A message's content alone can outgrow a queue message; it is then left out, and the consumer reads it from the row.</summary>
    private async Task SendMessageCreatedAsync(ChatwootMessageCreated created, CancellationToken cancellationToken)
    {
        var serialized = JsonSerializer.SerializeToUtf8Bytes(created, QueueJson.Options);
        if (serialized.Length > QueueWriter.MaxInlineJsonBytes)
        {
            serialized = JsonSerializer.SerializeToUtf8Bytes(created with { Message = created.Message with { Content = null }, ContentOmitted = true }, QueueJson.Options);
            LogContentOmitted(logger, created.Delivery.Id, created.Message.Id);
        }

        await queues.SendSerializedAsync(ChatwootMessageCreated.QueueName, BinaryData.FromBytes(serialized), cancellationToken: cancellationToken);
    }

    private static (string Status, string Outcome) Forwarded(string queue) => (ChatwootDeliveryStatus.Processed, $"forwarded to {queue}");

    /// <summary>Gives the claim back so a replay need not wait; the failure that got here is what the host sees either way.</summary>
    private async Task ReleaseAsync(string deliveryId, string messageId, Exception failure)
    {
        try
        {
            await deliveries.ReleaseAsync(deliveryId, messageId, CancellationToken.None);
        }
        catch (RequestFailedException ex)
        {
            LogReleaseFailed(logger, ex, deliveryId, failure.GetType().Name);
        }
    }

    [LoggerMessage(EventId = 9210, Level = LogLevel.Information, Message = "Chatwoot delivery {DeliveryId} ({Event}): {Outcome}")]
    private static partial void LogProcessed(ILogger logger, string deliveryId, string @event, string outcome);

    [LoggerMessage(EventId = 9211, Level = LogLevel.Information, Message = "Chatwoot delivery {DeliveryId} delivered again; it was {Status} before, nothing to do")]
    private static partial void LogRedelivered(ILogger logger, string deliveryId, string status);

    [LoggerMessage(EventId = 9212, Level = LogLevel.Information, Message = "Chatwoot delivery {DeliveryId} delivered again while queue message {ClaimedBy} processes it; left to that one")]
    private static partial void LogHeldByAnother(ILogger logger, string deliveryId, string claimedBy);

    [LoggerMessage(EventId = 9214, Level = LogLevel.Information, Message = "Chatwoot delivery {DeliveryId}: message {MessageId} forwarded without its content, too large for a queue message; it is in the delivery's row")]
    private static partial void LogContentOmitted(ILogger logger, string deliveryId, long messageId);

    [LoggerMessage(EventId = 9213, Level = LogLevel.Warning, Message = "Could not release the claim on Chatwoot delivery {DeliveryId} after a {Failure}; a replay waits for the claim to time out")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string deliveryId, string failure);
}
