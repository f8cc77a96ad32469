namespace DecentCloud.Functions.Hosting.Queues;

/// <summary>
/// A queue-triggered function. Run returns normally to settle the message (it is deleted); an exception
/// leaves it to be retried and, after maxDequeueCount attempts, moved to the poison queue.
/// </summary>
public interface IQueueFunction<in TMessage>
{
    Task Run(TMessage message, CancellationToken cancellationToken);
}

/// <summary>What a queue function may want to know of the message it is running for (injected per invocation).</summary>
public sealed class QueueMessageContext
{
    public string QueueName { get; internal set; } = "";

    public string MessageId { get; internal set; } = "";

    public long DequeueCount { get; internal set; }

    public DateTimeOffset? InsertedOn { get; internal set; }

    /// <summary>When the message expires unprocessed (Functions' <c>ExpirationTime</c>); 31 December 9999 for a message that never does.</summary>
    public DateTimeOffset? ExpiresOn { get; internal set; }
}
