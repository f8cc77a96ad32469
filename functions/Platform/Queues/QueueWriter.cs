using System.Collections.Concurrent;
using System.Text.Json;
using Azure.Storage.Queues;

namespace DecentCloud.Functions.Platform.Queues;

/// <summary>Puts typed messages on a queue in the JSON and encoding the queue functions read.</summary>
public sealed class QueueWriter(QueueServiceClient queues)
{
    /// <summary>A message time-to-live of -1: the message never expires (storage service version 2017-07-29 and later).</summary>
    public static readonly TimeSpan Forever = TimeSpan.FromSeconds(-1);

    /// <summary>
    /// The JSON a message may carry: storage holds 64 KiB after base64 (48 KiB of JSON), less a margin. A body too large
    /// for this stays in a table row and the message carries only its key.
    /// </summary>
    public const int MaxInlineJsonBytes = 40 * 1024;

    // Only queues known to exist are remembered: a failed creation (a network blip as much as a storage error) is
    // tried again on the next send, never cached. Two sends racing to create one queue both succeed.
    private readonly ConcurrentDictionary<string, QueueClient> ready = new(StringComparer.Ordinal);

    /// <param name="visibilityDelay">
    /// Keeps the message hidden this long (a delayed retry, say). Storage counts it in whole seconds, so it is rounded up:
    /// a delayed message never comes early (a sub-second delay would otherwise be none at all).
    /// </param>
    public Task<string> SendAsync<TMessage>(string queueName, TMessage message, TimeSpan? visibilityDelay = null, CancellationToken cancellationToken = default) =>
        SendBodyAsync(queueName, BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(message, QueueJson.Options)), visibilityDelay, null, typeof(TMessage).Name, cancellationToken);

    /// <summary>Sends a body already serialized as queue JSON (see <see cref="QueueJson"/>), for a caller that needed its size first.</summary>
    /// <param name="timeToLive">How long the message lives unprocessed; the storage default is 7 days, <see cref="Forever"/> never expires.</param>
    public Task<string> SendSerializedAsync(string queueName, BinaryData body, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default) =>
        SendBodyAsync(queueName, body, null, timeToLive, "message", cancellationToken);

    private async Task<string> SendBodyAsync(string queueName, BinaryData body, TimeSpan? visibilityDelay, TimeSpan? timeToLive, string what, CancellationToken cancellationToken)
    {
        var delay = visibilityDelay > TimeSpan.Zero ? TimeSpan.FromSeconds(Math.Ceiling(visibilityDelay.Value.TotalSeconds)) : (TimeSpan?)null;
        try
        {
            var queue = await QueueAsync(queueName, cancellationToken);
            var receipt = await queue.SendMessageAsync(body, delay, timeToLive, cancellationToken);
            return receipt.Value.MessageId;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException($"sending a {what} to queue {queueName}", ex);
        }
    }

    private async Task<QueueClient> QueueAsync(string queueName, CancellationToken cancellationToken)
    {
        if (ready.TryGetValue(queueName, out var known))
        {
            return known;
        }

        var queue = queues.GetQueueClient(queueName);
        await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        return ready.GetOrAdd(queueName, queue);
    }
}
