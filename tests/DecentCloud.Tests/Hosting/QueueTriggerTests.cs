using System.Collections.Concurrent;
using Azure.Storage.Queues;
using DecentCloud.Functions.Platform.Queues;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Hosting;

public sealed record WorkItem(string Id, int Size);

/// <summary>What the test functions below saw; one per app, registered as a singleton by the test.</summary>
public sealed class WorkLog
{
    public ConcurrentQueue<(string Instance, WorkItem Item, long DequeueCount)> Runs { get; } = new();

    public string Instance { get; init; } = "a";

    /// <summary>When set, the function waits on it (or on cancellation) before it returns.</summary>
    public TaskCompletionSource? Gate { get; set; }

    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

public sealed class AlwaysFails(WorkLog log, QueueMessageContext context) : IQueueFunction<WorkItem>
{
    public Task Run(WorkItem message, CancellationToken cancellationToken)
    {
        log.Runs.Enqueue((log.Instance, message, context.DequeueCount));
        throw new InvalidOperationException($"work item {message.Id} cannot be done");
    }
}

public sealed class RecordsWork(WorkLog log, QueueMessageContext context) : IQueueFunction<WorkItem>
{
    public async Task Run(WorkItem message, CancellationToken cancellationToken)
    {
        log.Started.TrySetResult();
        if (log.Gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }
        else
        {
            // A little work, so that two instances both get a share of the queue.
            await Task.Delay(5, cancellationToken);
        }

        log.Runs.Enqueue((log.Instance, message, context.DequeueCount));
    }
}

/// <summary>Tracks how many invocations run at once.</summary>
public sealed class Concurrency
{
    private int current;
    private int highest;
    private int done;

    public int Highest => Volatile.Read(ref highest);

    public int Done => Volatile.Read(ref done);

    public async Task RunAsync(TimeSpan work, CancellationToken cancellationToken)
    {
        var now = Interlocked.Increment(ref current);
        int seen;
        while (now > (seen = Volatile.Read(ref highest)) && Interlocked.CompareExchange(ref highest, now, seen) != seen)
        {
        }

        await Task.Delay(work, cancellationToken);
        Interlocked.Decrement(ref current);
        Interlocked.Increment(ref done);
    }
}

public sealed class SlowWork(Concurrency concurrency) : IQueueFunction<WorkItem>
{
    public Task Run(WorkItem message, CancellationToken cancellationToken) => concurrency.RunAsync(TimeSpan.FromMilliseconds(150), cancellationToken);
}

public sealed class QueueTriggerTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private static string Encode(string json) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(json));

    private QueueClient RawQueue(string name)
    {
        var queue = new QueueClient(storage.ConnectionString, name);
        queue.CreateIfNotExists();
        return queue;
    }

    private Task<TestFunctionApp> StartWith<TFunction>(string queue, WorkLog log, string? hostId = null)
        where TFunction : class, IQueueFunction<WorkItem> =>
        TestFunctionApp.StartAsync(storage.ConnectionString, hostId, builder =>
        {
            builder.Services.AddSingleton(log);
            builder.Functions.Queue<TFunction, WorkItem>(queue);
        });

    [Fact]
    public async Task A_message_that_always_fails_lands_unchanged_in_the_poison_queue_after_maxDequeueCount_attempts()
    {
        var queue = TestFunctionApp.UniqueQueueName("fails");
        var raw = RawQueue(queue);
        var text = Encode("""{"id":"w-1","size":3,"extra":"kept as sent"}""");
        await raw.SendMessageAsync(text);
        var log = new WorkLog();
        await using var app = await StartWith<AlwaysFails>(queue, log);

        var poison = RawQueue(PoisonQueueName.NameFor(queue));
        // The move is logged once the copy is in the poison queue and the original deleted.
        await Eventually.HoldsAsync(() => app.Logs.Entries.Any(e => e.EventId.Id == 2004), "the message was moved to the poison queue");

        var poisoned = (await poison.PeekMessagesAsync(32)).Value;
        Assert.Single(poisoned);
        Assert.Equal(text, poisoned[0].MessageText);
        Assert.Equal([1L, 2L, 3L], log.Runs.Select(r => r.DequeueCount).Order().ToArray());
        Assert.Empty((await raw.PeekMessagesAsync(32)).Value);
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 2003 && e.Exception is InvalidOperationException { Message: "work item w-1 cannot be done" });
        Assert.Single(app.Logs.Entries, e => e.EventId.Id == 2004);

        // Each attempt is its own trace, and every line of an attempt carries its trace id.
        var failures = app.Logs.Entries.Where(e => e.EventId.Id == 2003).ToList();
        Assert.All(failures, failure => Assert.Matches("^[0-9a-f]{32}$", failure.TraceId));
        Assert.Equal(failures.Count, failures.Select(failure => failure.TraceId).Distinct().Count());
        Assert.Equal(failures[^1].TraceId, Assert.Single(app.Logs.Entries, e => e.EventId.Id == 2004).TraceId);
    }

    [Fact]
    public async Task A_message_that_is_not_the_functions_json_goes_to_the_poison_queue_with_the_reason_logged()
    {
        var queue = TestFunctionApp.UniqueQueueName("badjson");
        var raw = RawQueue(queue);
        var text = Encode("this is not json");
        await raw.SendMessageAsync(text);
        var log = new WorkLog();
        await using var app = await StartWith<RecordsWork>(queue, log);

        var poison = RawQueue(PoisonQueueName.NameFor(queue));
        await Eventually.HoldsAsync(async () => (await poison.PeekMessagesAsync(1)).Value.Length == 1, "the message is in the poison queue");

        Assert.Equal(text, (await poison.PeekMessagesAsync(1)).Value[0].MessageText);
        Assert.Empty(log.Runs);
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 2003 && e.Exception is InvalidDataException { InnerException: System.Text.Json.JsonException });
    }

    [Fact]
    public async Task A_message_in_flight_when_the_host_stops_is_processed_after_restart()
    {
        var queue = TestFunctionApp.UniqueQueueName("inflight");
        var writer = new QueueWriter(new QueueServiceClient(storage.ConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }));
        await writer.SendAsync(queue, new WorkItem("w-9", 9));

        var first = new WorkLog { Instance = "first", Gate = new TaskCompletionSource() };
        var hostId = TestFunctionApp.UniqueHostId();
        var app = await StartWith<RecordsWork>(queue, first, hostId);
        await first.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await app.DisposeAsync();

        Assert.Empty(first.Runs);
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 2005);

        var second = new WorkLog { Instance = "second" };
        await using var restarted = await StartWith<RecordsWork>(queue, second, hostId);
        await Eventually.HoldsAsync(() => !second.Runs.IsEmpty, "the restarted host processed the message");

        var run = Assert.Single(second.Runs);
        Assert.Equal(new WorkItem("w-9", 9), run.Item);
        Assert.Empty((await RawQueue(PoisonQueueName.NameFor(queue)).PeekMessagesAsync(1)).Value);
        await Eventually.HoldsAsync(async () => (await RawQueue(queue).GetPropertiesAsync()).Value.ApproximateMessagesCount == 0, "the queue is empty");
    }

    [Fact]
    public async Task Two_host_instances_on_one_storage_account_process_each_message_once()
    {
        var queue = TestFunctionApp.UniqueQueueName("shared");
        var writer = new QueueWriter(new QueueServiceClient(storage.ConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }));
        const int count = 200;
        var hostId = TestFunctionApp.UniqueHostId();
        var runs = new WorkLog { Instance = "a" };
        var other = new WorkLog { Instance = "b" };

        // Each instance's work waits until the other has started some: whichever polls first cannot drain the
        // queue alone while the other is still backing off, so the test does not depend on polling luck.
        runs.Gate = other.Started;
        other.Gate = runs.Started;

        // Both instances listen before any message arrives, so neither can drain the queue alone by starting first.
        await using var a = await StartWith<RecordsWork>(queue, runs, hostId);
        await using var b = await StartWith<RecordsWork>(queue, other, hostId);
        await Parallel.ForEachAsync(Enumerable.Range(0, count), async (i, ct) => await writer.SendAsync(queue, new WorkItem($"w-{i}", i), cancellationToken: ct));

        await Eventually.HoldsAsync(() => runs.Runs.Count + other.Runs.Count >= count, $"{count} messages were processed", TimeSpan.FromSeconds(60));

        // A second run could only come from a message still in the queue (shown again after a lost lease): once the
        // queue is empty, every message was deleted after its one run.
        await Eventually.HoldsAsync(async () => (await RawQueue(queue).GetPropertiesAsync()).Value.ApproximateMessagesCount == 0, "the queue is empty");

        var all = runs.Runs.Concat(other.Runs).ToList();
        Assert.Equal(count, all.Count);
        Assert.Equal(count, all.Select(r => r.Item.Id).Distinct().Count());
        Assert.NotEmpty(runs.Runs);
        Assert.NotEmpty(other.Runs);
    }

    [Fact]
    public async Task At_most_batchSize_plus_newBatchThreshold_messages_run_at_once()
    {
        var queue = TestFunctionApp.UniqueQueueName("batch");
        var writer = new QueueWriter(new QueueServiceClient(storage.ConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }));
        await Parallel.ForEachAsync(Enumerable.Range(0, 24), async (i, ct) => await writer.SendAsync(queue, new WorkItem($"w-{i}", i), cancellationToken: ct));
        var concurrency = new Concurrency();
        var hostJson = """{ "version": "2.0", "extensions": { "queues": { "batchSize": 3, "newBatchThreshold": 1, "maxPollingInterval": "00:00:00.200" } } }""";

        await using var app = await TestFunctionApp.StartAsync(storage.ConnectionString, configure: builder =>
        {
            builder.Services.AddSingleton(concurrency);
            builder.Functions.Queue<SlowWork, WorkItem>(queue);
        }, hostJson: hostJson);
        await Eventually.HoldsAsync(() => concurrency.Done == 24, "all 24 messages were processed");

        Assert.InRange(concurrency.Highest, 2, 4);
    }

    [Fact]
    public async Task A_failed_message_is_retried_only_after_visibilityTimeout()
    {
        var queue = TestFunctionApp.UniqueQueueName("later");
        await RawQueue(queue).SendMessageAsync(Encode("""{"id":"w-2","size":2}"""));
        var log = new WorkLog();
        var hostJson = """{ "version": "2.0", "extensions": { "queues": { "visibilityTimeout": "00:00:02", "maxDequeueCount": 2, "maxPollingInterval": "00:00:00.200" } } }""";

        await using var app = await TestFunctionApp.StartAsync(storage.ConnectionString, configure: builder =>
        {
            builder.Services.AddSingleton(log);
            builder.Functions.Queue<AlwaysFails, WorkItem>(queue);
        }, hostJson: hostJson);
        // Wait for the failure log lines, not the runs: a run is recorded before its failure is logged.
        await Eventually.HoldsAsync(() => app.Logs.Entries.Count(e => e.EventId.Id == 2003) == 2, "both failed attempts were logged");

        var attempts = app.Logs.Entries.Where(e => e.EventId.Id == 2003).Select(e => e.At).ToList();
        Assert.Equal(2, attempts.Count);
        Assert.True(attempts[1] - attempts[0] >= TimeSpan.FromSeconds(1.9), $"retried after {(attempts[1] - attempts[0]).TotalSeconds:F2} s");
    }
}
