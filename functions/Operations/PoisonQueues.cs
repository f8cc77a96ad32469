using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using DecentCloud.Functions.Platform;
using DecentCloud.Functions.Platform.Queues;

namespace DecentCloud.Functions.Operations;

/// <summary>
/// The poison queues of this app's queue functions: what is in them, and putting messages back on
/// their original queue unchanged, with the time-to-live they were sent with. Only queues that a queue function listens to are reachable here.
/// </summary>
public sealed partial class PoisonQueues(IConfiguration configuration, QueueServiceClient queues, ILogger<PoisonQueues> logger)
{
    /// <summary>Storage queues hand out at most 32 messages per call; a peek cannot look further.</summary>
    public const int PageSize = 32;

    /// <summary>One replay-all call moves at most this many messages, so it answers in bounded time.</summary>
    public const int ReplayAllLimit = 5000;

    // Messages looked at while searching for one are hidden this long at most; they are released at once after.
    private static readonly TimeSpan SearchVisibility = TimeSpan.FromSeconds(30);

    public IReadOnlyList<QueueBinding> Monitored() => AppFunctions.OfThisApp.QueueBindings(configuration);

    public QueueBinding? Find(string queueName) =>
        Monitored().FirstOrDefault(q => string.Equals(q.Queue, queueName, StringComparison.Ordinal));

    public async Task<QueueCounts> CountAsync(QueueBinding queue, CancellationToken cancellationToken)
    {
        var main = await CountAsync(queues.GetQueueClient(queue.Queue), cancellationToken);
        var poison = await CountAsync(queues.GetQueueClient(queue.PoisonQueue), cancellationToken);
        return new QueueCounts(queue.Function, queue.Queue, queue.PoisonQueue, main, poison);
    }

    public async Task<PoisonMessageList> PeekAsync(QueueBinding queue, CancellationToken cancellationToken)
    {
        var poison = queues.GetQueueClient(queue.PoisonQueue);
        var count = await CountAsync(poison, cancellationToken);
        if (count == 0)
        {
            return new PoisonMessageList(queue.Queue, queue.PoisonQueue, 0, []);
        }

        var peeked = await poison.PeekMessagesAsync(PageSize, cancellationToken);
        var messages = peeked.Value
            .Select(m => new PoisonMessage(m.MessageId, m.InsertedOn, m.ExpiresOn, m.DequeueCount, m.Body.ToString()))
            .ToList();
        return new PoisonMessageList(queue.Queue, queue.PoisonQueue, count, messages);
    }

    /// <summary>Puts one poison message back on its queue, unchanged; false when no message has that id.</summary>
    public Task<bool> ReplayAsync(QueueBinding queue, string messageId, CancellationToken cancellationToken) =>
        WithMessageAsync(queue, messageId, async (poison, message) =>
        {
            // The function's listener creates its queue as it starts; a replay may come first.
            var target = queues.GetQueueClient(queue.Queue);
            await target.CreateIfNotExistsAsync(cancellationToken: cancellationToken);

            // Send first, delete second: a failure in between leaves a copy in both, never in neither.
            await target.SendMessageAsync(message.Body, timeToLive: MessageTimeToLive.Of(message.InsertedOn, message.ExpiresOn), cancellationToken: cancellationToken);
            await poison.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
        }, cancellationToken);

    public Task<bool> DeleteAsync(QueueBinding queue, string messageId, CancellationToken cancellationToken) =>
        WithMessageAsync(queue, messageId, (poison, message) => poison.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken), cancellationToken);

    /// <summary>Puts every poison message back on its queue, up to <see cref="ReplayAllLimit"/> per call.</summary>
    public async Task<ReplayResult> ReplayAllAsync(QueueBinding queue, CancellationToken cancellationToken)
    {
        var poison = queues.GetQueueClient(queue.PoisonQueue);
        var target = queues.GetQueueClient(queue.Queue);
        if (!(await poison.ExistsAsync(cancellationToken)).Value)
        {
            return new ReplayResult(0, 0);
        }

        await target.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var replayed = 0;
        while (replayed < ReplayAllLimit)
        {
            var batch = (await poison.ReceiveMessagesAsync(Math.Min(PageSize, ReplayAllLimit - replayed), SearchVisibility, cancellationToken)).Value;
            if (batch.Length == 0)
            {
                break;
            }

            foreach (var message in batch)
            {
                await target.SendMessageAsync(message.Body, timeToLive: MessageTimeToLive.Of(message.InsertedOn, message.ExpiresOn), cancellationToken: cancellationToken);
                await poison.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                replayed++;
            }
        }

        return new ReplayResult(replayed, await CountAsync(poison, cancellationToken));
    }

    private async Task<bool> WithMessageAsync(QueueBinding queue, string messageId, Func<QueueClient, QueueMessage, Task> act, CancellationToken cancellationToken)
    {
        var poison = queues.GetQueueClient(queue.PoisonQueue);
        if (!(await poison.ExistsAsync(cancellationToken)).Value)
        {
            return false;
        }

        // A storage queue cannot fetch a message by id: receive until it turns up, then give back the rest.
        var passedOver = new List<QueueMessage>();
        try
        {
            while (true)
            {
                var batch = (await poison.ReceiveMessagesAsync(PageSize, SearchVisibility, cancellationToken)).Value;
                if (batch.Length == 0)
                {
                    return false;
                }

                var match = batch.FirstOrDefault(m => m.MessageId == messageId);
                passedOver.AddRange(batch.Where(m => m.MessageId != messageId));
                if (match is not null)
                {
                    await act(poison, match);
                    return true;
                }
            }
        }
        finally
        {
            foreach (var message in passedOver)
            {
                await ReleaseAsync(poison, message);
            }
        }
    }

    private async Task ReleaseAsync(QueueClient poison, QueueMessage message)
    {
        try
        {
            await poison.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: CancellationToken.None);
        }
        catch (RequestFailedException ex)
        {
            // It becomes visible again by itself when its search visibility runs out.
            LogReleaseFailed(logger, ex, poison.Name, message.MessageId);
        }
    }

    private static async Task<int> CountAsync(QueueClient queue, CancellationToken cancellationToken)
    {
        try
        {
            return (await queue.GetPropertiesAsync(cancellationToken)).Value.ApproximateMessagesCount;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return 0;
        }
    }

    [LoggerMessage(EventId = 5010, Level = LogLevel.Warning, Message = "Could not release message {MessageId} on {Queue}; it reappears within 30 s")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string queue, string messageId);
}

public sealed record QueueBinding(string Function, string Queue)
{
    public string PoisonQueue => PoisonQueueName.NameFor(Queue);
}

public sealed record QueueCounts(string Function, string Queue, string PoisonQueue, int ApproximateMessages, int ApproximatePoisonMessages);

public sealed record PoisonMessage(string Id, DateTimeOffset? InsertedOn, DateTimeOffset? ExpiresOn, long DequeueCount, string Body);

/// <param name="ApproximateCount">The poison queue's approximate length; <paramref name="Messages"/> holds at most the first 32.</param>
public sealed record PoisonMessageList(string Queue, string PoisonQueue, int ApproximateCount, IReadOnlyList<PoisonMessage> Messages);

public sealed record ReplayResult(int Replayed, int ApproximateRemaining);
