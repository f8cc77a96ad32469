using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using DecentCloud.Tests.Support;
using Xunit.Abstractions;

namespace DecentCloud.Tests.LocalHost;

/// <summary>
/// The timer trigger's schedule monitor and start-up checks with a real isolated worker, run by the local Functions
/// host. The monitor's status blob is all a host keeps of a schedule across restarts, so downtime is what a host finds
/// in it on start: a next occurrence that lies in the past.
/// </summary>
public sealed class TimerSemanticsTests(AzuriteFixture storage, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    /// <summary>Fires at most once a minute, so the timer extension monitors it.</summary>
    private const string EveryMinute = "0 * * * * *";

    [Fact]
    public async Task Missed_occurrence_runs_once_past_due_after_downtime_and_the_schedule_goes_on_from_now()
    {
        var names = SampleNames.Unique();
        var status = StatusBlob(names.HostId, "Tick");
        var started = DateTimeOffset.UtcNow;
        var missed = WholeMinute(started).AddMinutes(-4);

        // Down for four minutes: the last run was a minute before the first missed occurrence, which the status names as next.
        await status.GetParentBlobContainerClient().CreateIfNotExistsAsync();
        await status.UploadAsync(BinaryData.FromObjectAsJson(new StatusRecord(missed.AddMinutes(-1), missed, missed.AddMinutes(-1))));
        await using var app = await SampleHost.StartAsync(storage.ConnectionString, names, new Dictionary<string, string?> { ["SAMPLE_TICK_SCHEDULE"] = EveryMinute }, output);

        // Once the status names an occurrence after the restart as next, no further catch-up run can follow.
        StatusRecord after = null!;
        await Eventually.HoldsAsync(async () => (after = await ReadAsync(status)).Next > started, "the missed occurrence ran and the next one lies ahead");

        var ticks = await TicksAsync(app);
        var caughtUp = Assert.Single(ticks, tick => tick.IsPastDue);
        Assert.Equal(missed, caughtUp.Occurrence);
        Assert.All(ticks.Where(tick => !tick.IsPastDue), tick => Assert.True(tick.Occurrence > started, $"an on-time run for {tick.Occurrence:O}"));
        Assert.Equal(WholeMinute(after.Next), after.Next);
        Assert.InRange(after.Next, started, started.AddMinutes(2));
    }

    [Fact]
    public async Task Schedule_that_fires_more_than_once_a_minute_is_not_monitored_so_a_missed_occurrence_is_skipped_and_the_worker_gets_no_status()
    {
        var names = SampleNames.Unique();
        var status = StatusBlob(names.HostId, "Tick");
        var missed = WholeMinute(DateTimeOffset.UtcNow).AddMinutes(-4);
        await status.GetParentBlobContainerClient().CreateIfNotExistsAsync();
        await status.UploadAsync(BinaryData.FromObjectAsJson(new StatusRecord(missed.AddSeconds(-2), missed, missed.AddSeconds(-2))));

        await using var app = await SampleHost.StartAsync(storage.ConnectionString, names, new Dictionary<string, string?> { ["SAMPLE_TICK_SCHEDULE"] = "*/2 * * * * *" }, output);

        // The first run of a monitored schedule would be the missed one, at once.
        await Eventually.HoldsAsync(async () => (await TicksAsync(app)).Count >= 2, "Tick fired twice");
        var ticks = await TicksAsync(app);
        Assert.All(ticks, tick => Assert.False(tick.IsPastDue));
        Assert.All(ticks, tick => Assert.Null(tick.Occurrence));
    }

    [Fact]
    public async Task Run_on_startup_with_a_missed_occurrence_runs_once_as_the_past_due_run()
    {
        var names = SampleNames.Unique();
        var status = StatusBlob(names.HostId, "StartupTick");
        var newYear = new DateTimeOffset(DateTimeOffset.UtcNow.Year, 1, 1, 0, 0, 0, TimeSpan.Zero);
        await status.GetParentBlobContainerClient().CreateIfNotExistsAsync();
        await status.UploadAsync(BinaryData.FromObjectAsJson(new StatusRecord(newYear.AddYears(-1), newYear, newYear.AddYears(-1))));

        await using var app = await SampleHost.StartAsync(storage.ConnectionString, names, new Dictionary<string, string?> { ["AzureWebJobs.StartupTick.Disabled"] = "false" }, output);

        // The start-up run comes before the status is updated, so once it names next year, every start-up run is in the queue.
        StatusRecord after = null!;
        await Eventually.HoldsAsync(async () => (after = await ReadAsync(status)).Next > newYear, "the missed occurrence ran");
        var run = Assert.Single(await TicksAsync(app, "StartupTick"));
        Assert.True(run.IsPastDue);
        Assert.Equal(newYear, run.Occurrence);
        Assert.Equal(newYear.AddYears(1), after.Next);
    }

    [Fact]
    public async Task Schedule_that_is_not_ncrontab_stops_start_up_naming_the_function()
    {
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => SampleHost.StartAsync(
            storage.ConnectionString,
            settings: new Dictionary<string, string?> { ["SAMPLE_TICK_SCHEDULE"] = "every five minutes" },
            output: output));

        Assert.Contains("Timer function Tick", refused.Message, StringComparison.Ordinal);
        Assert.Contains("'every five minutes'", refused.Message, StringComparison.Ordinal);
    }

    private static DateTimeOffset WholeMinute(DateTimeOffset instant) =>
        new(instant.Year, instant.Month, instant.Day, instant.Hour, instant.Minute, 0, TimeSpan.Zero);

    private BlobClient StatusBlob(string hostId, string function) =>
        new BlobServiceClient(storage.ConnectionString).GetBlobContainerClient("azure-webjobs-hosts").GetBlobClient($"timers/{hostId}/{function}/status");

    private static async Task<StatusRecord> ReadAsync(BlobClient status) =>
        (await status.DownloadContentAsync()).Value.Content.ToObjectFromJson<StatusRecord>()!;

    private static async Task<List<TickRecord>> TicksAsync(SampleHost app, string function = "Tick")
    {
        var queue = app.Queue(app.Names.Ticks);
        return (await queue.ExistsAsync()).Value
            ? (await queue.PeekMessagesAsync(32)).Value.Select(m => JsonSerializer.Deserialize<TickRecord>(m.Body.ToString())!).Where(t => t.Function == function).ToList()
            : [];
    }

    private sealed record TickRecord(string Function, DateTimeOffset? Occurrence, bool IsPastDue);

    private sealed record StatusRecord(DateTimeOffset Last, DateTimeOffset Next, DateTimeOffset LastUpdated);
}
