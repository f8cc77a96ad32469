using System.Text.Json;
using Azure.Storage.Queues.Models;

namespace DecentCloud.Functions.Platform.Queues;

/// <summary>The one JSON shape of queue messages, for writers and readers alike.</summary>
public static class QueueJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// A queue function's message as <typeparamref name="TMessage"/>. A body that is not one throws, so the message is
    /// retried and, after maxDequeueCount attempts, kept in the poison queue for an operator.
    /// </summary>
    /// <exception cref="InvalidDataException">The body is not JSON of that type.</exception>
    public static TMessage Read<TMessage>(QueueMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            return JsonSerializer.Deserialize<TMessage>(message.Body.ToMemory().Span, Options)
                ?? throw new InvalidDataException($"Message {message.MessageId} is JSON null, not a {typeof(TMessage).Name}.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"reading message {message.MessageId} as {typeof(TMessage).Name}", ex);
        }
    }
}
