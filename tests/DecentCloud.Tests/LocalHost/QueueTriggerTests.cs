using System.Text.Json;
using Azure.Storage.Queues;
using DecentCloud.Tests.Support;
using Xunit.Abstractions;

namespace DecentCloud.Tests.LocalHost;

/// <summary>Queue functions of a real isolated worker, run by the local Functions host: settlement, retries, poison.</summary>
public sealed class QueueTriggerTests(AzuriteFixture storage, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    /// <summary>The sample app's host.json extensions.queues.maxDequeueCount.</summary>
    private const int MaxDequeueCount = 3;

    [Fact]
    public async Task Queue_message_is_processed_once_its_output_written_and_its_log_lines_share_a_trace()
    {
        await using var app = await SampleHost.StartAsync(
            storage.ConnectionString,
            settings: new Dictionary<string, string?> { ["Logging__LogLevel__DecentCloud.FunctionsHost"] = "Debug" },
            output: output);
        var work = await CreatedAsync(app.Queue(app.Names.Work));
        var done = await CreatedAsync(app.Queue(app.Names.Done));

        await work.SendMessageAsync(JsonSerializer.Serialize(new { id = "a1", fail = false }));

        // The worker's log lines travel apart from its invocation responses, and the host logs the settlement after it
        // is done, so both lines are waited for too.
        await Eventually.HoldsAsync(
            async () => (await done.PeekMessagesAsync(32)).Value.Length == 1 && (await work.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0
                && app.Logs.Entries.Any(e => e.Message.StartsWith("Processed work item a1", StringComparison.Ordinal))
                && app.Logs.Entries.Any(e => e.EventId.Id == 2102),
            "the work item is processed and deleted");
        var report = JsonDocument.Parse(Assert.Single((await done.PeekMessagesAsync(32)).Value).Body.ToString()).RootElement;
        Assert.Equal("a1", report.GetProperty("Id").GetString());
        Assert.Equal(1, report.GetProperty("DequeueCount").GetInt64());

        var processed = Assert.Single(app.Logs.Entries, e => e.Message.StartsWith("Processed work item a1", StringComparison.Ordinal));
        var settled = Assert.Single(app.Logs.Entries, e => e.EventId.Id == 2102);
        Assert.NotNull(processed.TraceId);
        Assert.Equal(settled.TraceId, processed.TraceId);
        Assert.Empty((await app.Queue(app.Names.Poison).PeekMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task Failing_message_lands_unchanged_in_the_poison_queue_after_max_dequeue_count_keeping_its_time_to_live()
    {
        await using var app = await SampleHost.StartAsync(storage.ConnectionString, output: output);
        var work = await CreatedAsync(app.Queue(app.Names.Work));
        var poison = app.Queue(app.Names.Poison);
        var forAnHour = JsonSerializer.Serialize(new { id = "f1", fail = true });
        var forever = JsonSerializer.Serialize(new { id = "f2", fail = true });

        await work.SendMessageAsync(forAnHour, timeToLive: TimeSpan.FromHours(1));
        await work.SendMessageAsync(forever, timeToLive: TimeSpan.FromSeconds(-1));

        await Eventually.HoldsAsync(
            async () => (await poison.ExistsAsync()).Value && (await poison.PeekMessagesAsync(32)).Value.Length == 2,
            "both work items are in the poison queue");
        var poisoned = (await poison.PeekMessagesAsync(32)).Value.ToDictionary(m => m.Body.ToString());
        var hour = poisoned[forAnHour];
        Assert.InRange((hour.ExpiresOn - hour.InsertedOn)!.Value, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(61));
        Assert.Equal(9999, poisoned[forever].ExpiresOn!.Value.Year);

        Assert.Equal(0, (await work.GetPropertiesAsync()).Value.ApproximateMessagesCount);
        Assert.False((await app.Queue(app.Names.Done).ExistsAsync()).Value, "nothing was reported done");
        foreach (var id in new[] { "f1", "f2" })
        {
            var attempts = app.Logs.Entries.Where(e => e.EventId.Id == 2103 && e.Message.Contains($"Work item {id} asked to fail", StringComparison.Ordinal)).ToList();
            Assert.Equal(MaxDequeueCount, attempts.Count);
            Assert.Equal(MaxDequeueCount, attempts.Select(e => e.TraceId).Distinct().Count());
        }

        Assert.Equal(2, app.Logs.Entries.Count(e => e.EventId.Id == 2104));
    }

    [Fact]
    public async Task Queue_function_that_binds_the_whole_message_gets_its_id_text_and_dequeue_count()
    {
        await using var app = await SampleHost.StartAsync(storage.ConnectionString, output: output);
        var describe = await CreatedAsync(app.Queue(app.Names.Describe));
        var done = await CreatedAsync(app.Queue(app.Names.Done));

        var sent = (await describe.SendMessageAsync("not JSON, just text")).Value;

        await Eventually.HoldsAsync(async () => (await done.PeekMessagesAsync(32)).Value.Length == 1, "the message is described");
        var description = JsonDocument.Parse(Assert.Single((await done.PeekMessagesAsync(32)).Value).Body.ToString()).RootElement;
        Assert.Equal(sent.MessageId, description.GetProperty("MessageId").GetString());
        Assert.Equal("not JSON, just text", description.GetProperty("Text").GetString());
        Assert.Equal(1, description.GetProperty("DequeueCount").GetInt64());
        Assert.Equal(sent.InsertionTime, description.GetProperty("InsertedOn").GetDateTimeOffset());
    }

    private static async Task<QueueClient> CreatedAsync(QueueClient queue)
    {
        await queue.CreateIfNotExistsAsync();
        return queue;
    }
}
