using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace DecentCloud.FunctionsHost.SampleApp;

/// <summary>
/// A queue function that takes its time, so tests see how many messages one host runs at once, how hosts share a queue
/// and what happens to a message in flight when its host stops: it works for the item's milliseconds, or, on an item's
/// first attempt when it asks to be held, until the host cancels the invocation. Its log lines say how many of its
/// invocations were running in this worker when one started.
/// </summary>
public sealed partial class SlowWork(ILogger<SlowWork> logger)
{
    private static int running;

    [Function(nameof(SlowWork))]
    [QueueOutput("%SAMPLE_DONE_QUEUE%")]
    public async Task<string> Run([QueueTrigger("%SAMPLE_SLOW_QUEUE%")] SlowItem item, long dequeueCount, CancellationToken cancellationToken)
    {
        var now = Interlocked.Increment(ref running);
        try
        {
            LogStarted(logger, item.Id, dequeueCount, now);
            if (item.HoldFirstAttempt && dequeueCount == 1)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            }

            await Task.Delay(item.Milliseconds, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref running);
        }

        LogDone(logger, item.Id, dequeueCount);
        return JsonSerializer.Serialize(new WorkDone(item.Id, dequeueCount));
    }

    [LoggerMessage(EventId = 1297, Level = LogLevel.Information, Message = "Slow work item {Id} started (attempt {DequeueCount}, {Running} running)")]
    private static partial void LogStarted(ILogger logger, string id, long dequeueCount, int running);

    [LoggerMessage(EventId = 1298, Level = LogLevel.Information, Message = "Slow work item {Id} done (attempt {DequeueCount})")]
    private static partial void LogDone(ILogger logger, string id, long dequeueCount);
}

/// <param name="HoldFirstAttempt">The first attempt waits until the host cancels it (the host stopping), later ones work as usual.</param>
public sealed record SlowItem(string Id, int Milliseconds, bool HoldFirstAttempt = false);
