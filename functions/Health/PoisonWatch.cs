using Azure;
using Azure.Storage.Queues;
using DecentCloud.Functions.Platform.Queues;

namespace DecentCloud.Functions.Health;

/// <summary>
/// A queue whose poison copy must stay empty: a message there is money not accounted for (a payment not applied, an
/// invoice or receipt not issued). Features register theirs; <c>/api/health</c> reports degraded while one holds
/// messages, and <see cref="WatchPoisonQueues"/> logs each at Error once per run.
/// </summary>
public sealed record QueueWatch(string Queue, string Holds);

/// <summary>A watched queue whose poison copy holds messages.</summary>
public sealed record PoisonReport(string Queue, string PoisonQueue, string Holds, int ApproximateMessages);

/// <summary>Counts the messages in the poison copies of the watched queues.</summary>
public sealed class PoisonWatch(IEnumerable<QueueWatch> watched, QueueServiceClient queues)
{
    private readonly IReadOnlyList<QueueWatch> watched = watched.DistinctBy(w => w.Queue).ToList();

    public async Task<IReadOnlyList<PoisonReport>> PoisonedAsync(CancellationToken cancellationToken)
    {
        var counts = await Task.WhenAll(watched.Select(async w => (Watched: w, Count: await CountAsync(PoisonQueueName.NameFor(w.Queue), cancellationToken))));
        return counts
            .Where(c => c.Count > 0)
            .Select(c => new PoisonReport(c.Watched.Queue, PoisonQueueName.NameFor(c.Watched.Queue), c.Watched.Holds, c.Count))
            .ToList();
    }

    private async Task<int> CountAsync(string queueName, CancellationToken cancellationToken)
    {
        try
        {
            return (await queues.GetQueueClient(queueName).GetPropertiesAsync(cancellationToken)).Value.ApproximateMessagesCount;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Not created yet: nothing ever failed there.
            return 0;
        }
    }
}
