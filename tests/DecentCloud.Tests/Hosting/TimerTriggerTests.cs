using System.Collections.Concurrent;
using Azure.Storage.Blobs;
using DecentCloud.Functions.Platform.Timers;
using DecentCloud.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace DecentCloud.Tests.Hosting;

public sealed class TimerLog
{
    public ConcurrentQueue<(string Instance, TimerInfo Timer)> Runs { get; } = new();

    public string Instance { get; init; } = "a";
}

public sealed class RecordsTicks(TimerLog log) : ITimerFunction
{
    public Task Run(TimerInfo timer, CancellationToken cancellationToken)
    {
        log.Runs.Enqueue((log.Instance, timer));
        return Task.CompletedTask;
    }
}

public sealed class TimerTriggerTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private BlobClient StatusOf(string hostId) =>
        new BlobContainerClient(storage.ConnectionString, TimerListener.ContainerName).GetBlobClient($"timers/{hostId}/{nameof(RecordsTicks)}/status");

    private Task<TestFunctionApp> StartWith(TimerLog log, string hostId, string schedule, bool runOnStartup = false, TimeProvider? time = null) =>
        TestFunctionApp.StartAsync(storage.ConnectionString, hostId, builder =>
        {
            builder.Services.AddSingleton(log);
            if (time is not null)
            {
                builder.Services.AddSingleton(time);
            }

            builder.Functions.Timer<RecordsTicks>(schedule, runOnStartup);
        });

    [Fact]
    public async Task A_timer_fires_once_per_occurrence_with_two_instances_running()
    {
        var hostId = TestFunctionApp.UniqueHostId();
        var first = new TimerLog { Instance = "a" };
        var second = new TimerLog { Instance = "b" };
        await using (var a = await StartWith(first, hostId, "*/2 * * * * *"))
        await using (var b = await StartWith(second, hostId, "*/2 * * * * *"))
        {
            await Eventually.HoldsAsync(() => first.Runs.Count + second.Runs.Count >= 4, "four occurrences fired", TimeSpan.FromSeconds(30));
        }

        var occurrences = first.Runs.Concat(second.Runs).Select(r => r.Timer.Occurrence).ToList();
        Assert.All(occurrences, o => Assert.NotNull(o));
        Assert.Equal(occurrences.Count, occurrences.Distinct().Count());
        Assert.All(occurrences, o => Assert.Equal(0, o!.Value.Second % 2));
    }

    [Fact]
    public async Task A_missed_occurrence_runs_once_after_downtime_then_the_schedule_goes_on()
    {
        var hostId = TestFunctionApp.UniqueHostId();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 10, 30, 0, TimeSpan.Zero));
        var status = StatusOf(hostId);

        var before = new TimerLog { Instance = "before" };
        await using (var app = await StartWith(before, hostId, "0 0 * * * *", time: time))
        {
            await Eventually.HoldsAsync(async () => (await status.ExistsAsync()).Value, "the schedule monitor recorded the next occurrence");
        }

        Assert.Empty(before.Runs);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 11, 0, 0, TimeSpan.Zero), (await status.DownloadContentAsync()).Value.Content.ToObjectFromJson<ScheduleStatus>()!.Next);

        // Down from 10:30 to 14:10: the 11:00, 12:00, 13:00 and 14:00 occurrences were missed.
        time.SetUtcNow(new DateTimeOffset(2026, 3, 1, 14, 10, 0, TimeSpan.Zero));
        var after = new TimerLog { Instance = "after" };
        await using var restarted = await StartWith(after, hostId, "0 0 * * * *", time: time);
        // Once the status names 15:00 as next, no further catch-up run can come.
        await Eventually.HoldsAsync(
            async () => (await status.DownloadContentAsync()).Value.Content.ToObjectFromJson<ScheduleStatus>()!.Next == new DateTimeOffset(2026, 3, 1, 15, 0, 0, TimeSpan.Zero),
            "the missed occurrence ran and the next one is 15:00");

        var caughtUp = Assert.Single(after.Runs).Timer;
        Assert.True(caughtUp.IsPastDue);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 11, 0, 0, TimeSpan.Zero), caughtUp.Occurrence);

        // The schedule goes on at 15:00, on time.
        await Eventually.HoldsAsync(
            () =>
            {
                if (time.GetUtcNow() < new DateTimeOffset(2026, 3, 1, 15, 0, 0, TimeSpan.Zero))
                {
                    time.Advance(TimeSpan.FromMinutes(5));
                }

                return after.Runs.Count >= 2;
            },
            "the 15:00 occurrence ran");
        var next = after.Runs.Last().Timer;
        Assert.False(next.IsPastDue);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 15, 0, 0, TimeSpan.Zero), next.Occurrence);
        Assert.Equal(2, after.Runs.Count);
    }

    [Fact]
    public async Task RunOnStartup_runs_the_function_once_when_the_host_starts()
    {
        var log = new TimerLog();
        var hostId = TestFunctionApp.UniqueHostId();
        await using var app = await StartWith(log, hostId, "0 0 0 1 1 *", runOnStartup: true);

        // The startup run comes before the schedule loop, which writes the status first: once it exists, the run is over.
        await Eventually.HoldsAsync(async () => (await StatusOf(hostId).ExistsAsync()).Value, "the startup run happened and the schedule began");

        var run = Assert.Single(log.Runs).Timer;
        Assert.Null(run.Occurrence);
        Assert.False(run.IsPastDue);
        Assert.Matches("^[0-9a-f]{32}$", Assert.Single(app.Logs.Entries, e => e.EventId.Id == 3002).TraceId);
    }

    [Fact]
    public async Task A_yearly_schedule_waits_past_the_longest_single_delay_and_fires_on_time()
    {
        var hostId = TestFunctionApp.UniqueHostId();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero));
        var log = new TimerLog();
        await using var app = await StartWith(log, hostId, "0 0 0 1 1 *", time: time);
        var newYear = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);
        await Eventually.HoldsAsync(
            async () => (await StatusOf(hostId).ExistsAsync()).Value && (await StatusOf(hostId).DownloadContentAsync()).Value.Content.ToObjectFromJson<ScheduleStatus>()!.Next == newYear,
            "the schedule monitor recorded 1 January, 334 days away");

        // 334 days is more than one Task.Delay can wait (about 49.7 days); the host keeps waiting instead of stopping.
        await Eventually.HoldsAsync(
            () =>
            {
                if (time.GetUtcNow() < newYear)
                {
                    time.Advance(TimeSpan.FromDays(30));
                }

                return !log.Runs.IsEmpty;
            },
            "the 1 January occurrence fired");
        var run = Assert.Single(log.Runs).Timer;
        Assert.Equal(newYear, run.Occurrence);
        Assert.False(run.IsPastDue);
    }

    [Fact]
    public async Task A_schedule_that_is_not_six_field_ncrontab_stops_start_up_naming_the_function()
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            StartWith(new TimerLog(), TestFunctionApp.UniqueHostId(), "*/5 * * * *"));

        Assert.Contains(nameof(RecordsTicks), failure.Message, StringComparison.Ordinal);
        Assert.Contains("six-field", failure.Message, StringComparison.Ordinal);
    }
}
