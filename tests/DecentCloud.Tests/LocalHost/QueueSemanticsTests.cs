using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Azure.Storage.Queues;
using DecentCloud.Tests.Support;
using Xunit.Abstractions;

namespace DecentCloud.Tests.LocalHost;

/// <summary>
/// The queue trigger's host.json semantics with a real isolated worker, run by the local Functions host: bad messages,
/// a stop with a message in flight, two hosts on one queue, batchSize and newBatchThreshold, visibilityTimeout.
/// </summary>
public sealed partial class QueueSemanticsTests(AzuriteFixture storage, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    /// <summary>The sample app's host.json extensions.queues.maxDequeueCount.</summary>
    private const int MaxDequeueCount = 3;

    [Fact]
    public async Task Message_that_is_not_the_functions_json_lands_unchanged_in_the_poison_queue_with_the_workers_reason_logged()
    {
        await using var app = await SampleHost.StartAsync(storage.ConnectionString, output: output);
        var work = await CreatedAsync(app.Queue(app.Names.Work));
        var poison = app.Queue(app.Names.Poison);

        await work.SendMessageAsync("this is not json");

        await Eventually.HoldsAsync(
            async () => (await poison.ExistsAsync()).Value && (await poison.PeekMessagesAsync(32)).Value.Length == 1,
            "the message is in the poison queue");
        Assert.Equal("this is not json", Assert.Single((await poison.PeekMessagesAsync(32)).Value).Body.ToString());
        Assert.Equal(0, (await work.GetPropertiesAsync()).Value.ApproximateMessagesCount);
        Assert.False((await app.Queue(app.Names.Done).ExistsAsync()).Value, "nothing was reported done");

        // As in Functions, a message the worker cannot bind is a failed invocation like any other: retried, then poisoned.
        var failures = app.Logs.Entries.Where(e => e.EventId.Id == 2103).ToList();
        Assert.Equal(MaxDequeueCount, failures.Count);
        Assert.All(failures, failure => Assert.Contains("Cannot convert input parameter 'item'", failure.Message, StringComparison.Ordinal));
        var workerErrors = app.Logs.Entries.Where(e => e.Category.StartsWith("Microsoft.Azure.Functions.Worker", StringComparison.Ordinal) && e.Level == LogLevel.Error).ToList();
        Assert.Equal(MaxDequeueCount, workerErrors.Count);
        Assert.All(workerErrors, e => Assert.Contains("System.Text.Json.JsonException", e.Exception?.ToString(), StringComparison.Ordinal));
        Assert.Equal(failures.Select(f => f.TraceId).Order(), workerErrors.Select(e => e.TraceId).Order());
        Assert.DoesNotContain(app.Logs.Entries, e => e.Message.StartsWith("Processed work item", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Message_in_flight_when_the_host_stops_is_processed_after_restart()
    {
        var names = SampleNames.Unique();
        await using var first = await SampleHost.StartAsync(storage.ConnectionString, names, output: output);
        var slow = await CreatedAsync(first.Queue(names.Slow));
        var done = first.Queue(names.Done);
        await slow.SendMessageAsync(JsonSerializer.Serialize(new { id = "s1", milliseconds = 0, holdFirstAttempt = true }));
        await Eventually.HoldsAsync(() => Started(first).Any(s => s.Id == "s1"), "the first host's worker is running the message");

        await first.DisposeAsync();

        Assert.Contains(first.Logs.Entries, e => e.EventId.Id == 2105);
        Assert.DoesNotContain(first.Logs.Entries, e => e.Message.StartsWith("Slow work item s1 done", StringComparison.Ordinal));
        Assert.False((await done.ExistsAsync()).Value, "nothing was reported done before the restart");

        await using var restarted = await SampleHost.StartAsync(storage.ConnectionString, names, output: output);
        await Eventually.HoldsAsync(
            async () => (await done.ExistsAsync()).Value && (await done.PeekMessagesAsync(32)).Value.Length == 1
                && (await slow.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0,
            "the restarted host processed the message and deleted it");
        var report = JsonDocument.Parse(Assert.Single((await done.PeekMessagesAsync(32)).Value).Body.ToString()).RootElement;
        Assert.Equal("s1", report.GetProperty("Id").GetString());
        Assert.Equal(2, report.GetProperty("DequeueCount").GetInt64());
        Assert.Empty((await restarted.Queue(names.Slow + "-poison").PeekMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task Two_hosts_on_one_storage_account_share_a_queue_and_process_each_message_once()
    {
        const int count = 64;
        var names = SampleNames.Unique();

        // Both listen before any message arrives, and each message takes a quarter of a second: one host alone holds
        // at most batchSize + newBatchThreshold (24) of them, so the other, polling at least every 0.6 s, gets some.
        await using var a = await SampleHost.StartAsync(storage.ConnectionString, names, output: output);
        await using var b = await SampleHost.StartAsync(storage.ConnectionString, names, output: output);
        var slow = await CreatedAsync(a.Queue(names.Slow));
        await Parallel.ForEachAsync(
            Enumerable.Range(0, count),
            async (i, ct) => await slow.SendMessageAsync(JsonSerializer.Serialize(new { id = $"m{i}", milliseconds = 250 }), ct));

        await Eventually.HoldsAsync(() => Done(a).Count + Done(b).Count >= count, $"{count} messages were processed", TimeSpan.FromSeconds(60));

        // A second run could only come from a message still in the queue (shown again after a lost lease): once the
        // queue is empty and its messages' runs are logged, every message was deleted after its one run.
        await Eventually.HoldsAsync(async () => (await slow.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0, "the queue is empty");
        var all = Done(a).Concat(Done(b)).ToList();
        Assert.Equal(count, all.Count);
        Assert.Equal(count, all.Select(run => run.Id).Distinct().Count());
        Assert.All(all, run => Assert.Equal(1, run.DequeueCount));
        Assert.NotEmpty(Done(a));
        Assert.NotEmpty(Done(b));
    }

    [Fact]
    public async Task At_most_batch_size_plus_new_batch_threshold_messages_run_at_once()
    {
        const int count = 24;
        await using var app = await SampleHost.StartAsync(
            storage.ConnectionString,
            settings: new Dictionary<string, string?>
            {
                ["AzureFunctionsJobHost__extensions__queues__batchSize"] = "3",
                ["AzureFunctionsJobHost__extensions__queues__newBatchThreshold"] = "1",
            },
            output: output);
        var slow = await CreatedAsync(app.Queue(app.Names.Slow));
        await Parallel.ForEachAsync(
            Enumerable.Range(0, count),
            async (i, ct) => await slow.SendMessageAsync(JsonSerializer.Serialize(new { id = $"c{i}", milliseconds = 150 }), ct));

        await Eventually.HoldsAsync(() => Done(app).Count == count, $"all {count} messages were processed", TimeSpan.FromSeconds(60));

        // More than one at once shows the runs overlapped at all; more than 3 + 1 would break the limit.
        Assert.InRange(Started(app).Max(s => s.Running), 2, 4);
    }

    [Fact]
    public async Task Failed_message_is_retried_only_after_the_visibility_timeout()
    {
        await using var app = await SampleHost.StartAsync(
            storage.ConnectionString,
            settings: new Dictionary<string, string?>
            {
                ["AzureFunctionsJobHost__extensions__queues__visibilityTimeout"] = "00:00:02",
                ["AzureFunctionsJobHost__extensions__queues__maxDequeueCount"] = "2",
            },
            output: output);
        var work = await CreatedAsync(app.Queue(app.Names.Work));

        await work.SendMessageAsync(JsonSerializer.Serialize(new { id = "v1", fail = true }));

        await Eventually.HoldsAsync(() => app.Logs.Entries.Any(e => e.EventId.Id == 2104), "the message was moved to the poison queue after its second attempt");
        var attempts = app.Logs.Entries.Where(e => e.EventId.Id == 2103).Select(e => e.At).ToList();
        Assert.Equal(2, attempts.Count);
        Assert.True(attempts[1] - attempts[0] >= TimeSpan.FromSeconds(1.9), $"retried after {(attempts[1] - attempts[0]).TotalSeconds:F2} s");
    }

    private static List<(string Id, long DequeueCount, int Running)> Started(SampleHost app) =>
        app.Logs.Entries.Select(e => SlowStarted().Match(e.Message)).Where(m => m.Success)
            .Select(m => (m.Groups["id"].Value, long.Parse(m.Groups["attempt"].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups["running"].Value, CultureInfo.InvariantCulture)))
            .ToList();

    private static List<(string Id, long DequeueCount)> Done(SampleHost app) =>
        app.Logs.Entries.Select(e => SlowDone().Match(e.Message)).Where(m => m.Success)
            .Select(m => (m.Groups["id"].Value, long.Parse(m.Groups["attempt"].Value, CultureInfo.InvariantCulture)))
            .ToList();

    private static async Task<QueueClient> CreatedAsync(QueueClient queue)
    {
        await queue.CreateIfNotExistsAsync();
        return queue;
    }

    [GeneratedRegex(@"^Slow work item (?<id>\S+) started \(attempt (?<attempt>\d+), (?<running>\d+) running\)$")]
    private static partial Regex SlowStarted();

    [GeneratedRegex(@"^Slow work item (?<id>\S+) done \(attempt (?<attempt>\d+)\)$")]
    private static partial Regex SlowDone();
}
