using System.Text.Json;
using Azure.Storage.Blobs;
using DecentCloud.Tests.Support;
using Xunit.Abstractions;

namespace DecentCloud.Tests.LocalHost;

/// <summary>Timer functions of a real isolated worker, run by the local Functions host: schedule, monitor, one firing across hosts.</summary>
public sealed class TimerTriggerTests(AzuriteFixture storage, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string EveryTwoSeconds = "*/2 * * * * *";

    [Fact]
    public async Task Timer_fires_on_its_schedule_records_each_run_in_its_status_blob_and_runs_once_on_startup_when_asked()
    {
        await using var app = await SampleHost.StartAsync(
            storage.ConnectionString,
            settings: new Dictionary<string, string?> { ["SAMPLE_TICK_SCHEDULE"] = EveryTwoSeconds, ["AzureWebJobs.StartupTick.Disabled"] = "false" },
            output: output);

        await Eventually.HoldsAsync(async () => (await TicksAsync(app, "Tick")).Count >= 2, "Tick fired twice");

        var ticks = await TicksAsync(app, "Tick");
        Assert.All(ticks, tick => Assert.False(tick.IsPastDue));
        Assert.Equal(ticks.Count, ticks.Select(t => t.Occurrence).Distinct().Count());
        Assert.All(ticks, tick => Assert.Equal(0, tick.Occurrence!.Value.Second % 2));
        var status = await StatusAsync(app.Names.HostId, "Tick");
        Assert.True(status.Last >= ticks.Max(t => t.Occurrence!.Value), $"the status blob's Last ({status.Last:O}) is the latest run");
        Assert.True(status.Next > status.Last, "the status blob's Next lies after its Last");

        var startup = Assert.Single(await TicksAsync(app, "StartupTick"));
        Assert.Null(startup.Occurrence);
    }

    [Fact]
    public async Task Two_hosts_on_one_storage_account_fire_each_occurrence_once()
    {
        var names = SampleNames.Unique();
        var settings = new Dictionary<string, string?> { ["SAMPLE_TICK_SCHEDULE"] = EveryTwoSeconds };
        await using var first = await SampleHost.StartAsync(storage.ConnectionString, names, settings, output);
        await using var second = await SampleHost.StartAsync(storage.ConnectionString, names, settings, output);

        // Any second firing of an occurrence would come within moments of the first, long before four more occurrences.
        await Eventually.HoldsAsync(async () => (await TicksAsync(first, "Tick")).Select(t => t.Occurrence).Distinct().Count() >= 5, "Tick fired five times");

        var ticks = await TicksAsync(first, "Tick");
        var firstFour = ticks.Select(t => t.Occurrence!.Value).Distinct().Order().Take(4).ToList();
        Assert.All(firstFour, occurrence => Assert.Single(ticks, t => t.Occurrence == occurrence));
        Assert.Contains(first.Logs.Entries, e => e.EventId.Id == 3101);
        Assert.Contains(second.Logs.Entries, e => e.EventId.Id == 3101);
    }

    private static async Task<List<TickRecord>> TicksAsync(SampleHost app, string function)
    {
        var queue = app.Queue(app.Names.Ticks);
        if (!(await queue.ExistsAsync()).Value)
        {
            return [];
        }

        return (await queue.PeekMessagesAsync(32)).Value
            .Select(m => JsonSerializer.Deserialize<TickRecord>(m.Body.ToString())!)
            .Where(t => t.Function == function)
            .ToList();
    }

    private async Task<StatusRecord> StatusAsync(string hostId, string function)
    {
        var blob = new BlobServiceClient(storage.ConnectionString).GetBlobContainerClient("azure-webjobs-hosts").GetBlobClient($"timers/{hostId}/{function}/status");
        return (await blob.DownloadContentAsync()).Value.Content.ToObjectFromJson<StatusRecord>()!;
    }

    private sealed record TickRecord(string Function, DateTimeOffset? Occurrence, bool IsPastDue);

    private sealed record StatusRecord(DateTimeOffset Last, DateTimeOffset Next, DateTimeOffset LastUpdated);
}
