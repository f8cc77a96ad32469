
namespace DecentCloud.Functions.Health;

/// <summary>
/// Timer: logs at Error, once per run, each money queue whose poison copy holds messages, so that an alert on Error
/// logs reaches someone while the messages are still there to replay (docs/operations.md).
/// </summary>
public sealed partial class WatchPoisonQueues(PoisonWatch watch, ILogger<WatchPoisonQueues> logger)
{
    [Function(nameof(WatchPoisonQueues))]
    public async Task Run([TimerTrigger("50 */5 * * * *")] TimerInfo timer, CancellationToken cancellationToken)
    {
        foreach (var poisoned in await watch.PoisonedAsync(cancellationToken))
        {
            LogPoisoned(logger, poisoned.PoisonQueue, poisoned.ApproximateMessages, poisoned.Holds, poisoned.Queue);
        }
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Error, Message = "Poison queue {PoisonQueue} holds {Count} messages ({Holds}): look at them and replay them with /api/v1/admin/queues/{Queue}/poison")]
    private static partial void LogPoisoned(ILogger logger, string poisonQueue, int count, string holds, string queue);
}
