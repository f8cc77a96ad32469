using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace DecentCloud.FunctionsHost.SampleApp;

/// <summary>
/// A queue function: reports each work item it processed on the done queue (an output binding), or fails when the item
/// asks it to, so tests see retries and the poison queue.
/// </summary>
public sealed partial class ProcessWork(ILogger<ProcessWork> logger)
{
    [Function(nameof(ProcessWork))]
    [QueueOutput("%SAMPLE_DONE_QUEUE%")]
    public string Run([QueueTrigger("%SAMPLE_WORK_QUEUE%")] WorkItem item, long dequeueCount)
    {
        if (item.Fail)
        {
            throw new InvalidOperationException($"Work item {item.Id} asked to fail (attempt {dequeueCount}).");
        }

        LogProcessed(logger, item.Id, dequeueCount);
        return JsonSerializer.Serialize(new WorkDone(item.Id, dequeueCount));
    }

    [LoggerMessage(EventId = 1290, Level = LogLevel.Information, Message = "Processed work item {Id} (attempt {DequeueCount})")]
    private static partial void LogProcessed(ILogger logger, string id, long dequeueCount);
}

public sealed record WorkItem(string Id, bool Fail);

public sealed record WorkDone(string Id, long DequeueCount);
