using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using DecentCloud.Tests.Support;
using Xunit.Abstractions;

namespace DecentCloud.Tests.LocalHost;

/// <summary>Timer functions of a real isolated worker, run by the local Functions host: schedule, runOnStartup, one firing across hosts.</summary>
public sealed partial class TimerTriggerTests(AzuriteFixture storage, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string EveryTwoSeconds = "*/2 * * * * *";

    [Fact]
    public async Task Timer_fires_on_its_schedule_and_runs_once_on_startup_when_asked()
    {
        await using var app = await SampleHost.StartAsync(
            storage.ConnectionString,
            settings: new Dictionary<string, string?> { ["SAMPLE_TICK_SCHEDULE"] = EveryTwoSeconds, ["AzureWebJobs.StartupTick.Disabled"] = "false" },
            output: output);

        await Eventually.HoldsAsync(async () => (await TicksAsync(app, "Tick")).Count >= 2, "Tick fired twice");

        // A schedule that fires more than once a minute is not monitored, as in Functions: the worker gets no status.
        var ticks = await TicksAsync(app, "Tick");
        Assert.All(ticks, tick => Assert.False(tick.IsPastDue));
        Assert.All(ticks, tick => Assert.Null(tick.Occurrence));
        var fired = Firings(app);
        Assert.True(fired.Count >= ticks.Count, $"{fired.Count} firings for {ticks.Count} runs");
        Assert.Equal(fired.Count, fired.Distinct().Count());
        Assert.All(fired, occurrence => Assert.Equal(0, occurrence.Second % 2));

        // Its run on start-up sees the schedule's status, as in Functions: the yearly schedule's next occurrence.
        var startup = Assert.Single(await TicksAsync(app, "StartupTick"));
        Assert.False(startup.IsPastDue);
        Assert.Equal(new DateTimeOffset(DateTimeOffset.UtcNow.Year + 1, 1, 1, 0, 0, 0, TimeSpan.Zero), startup.Occurrence);
    }

    [Fact]
    public async Task Two_hosts_on_one_storage_account_fire_each_occurrence_once()
    {
        var names = SampleNames.Unique();
        var settings = new Dictionary<string, string?> { ["SAMPLE_TICK_SCHEDULE"] = EveryTwoSeconds };
        await using var first = await SampleHost.StartAsync(storage.ConnectionString, names, settings, output);
        await using var second = await SampleHost.StartAsync(storage.ConnectionString, names, settings, output);

        // Any second firing of an occurrence would come within moments of the first, long before four more occurrences.
        await Eventually.HoldsAsync(() => Firings(first).Concat(Firings(second)).Distinct().Count() >= 5, "Tick fired for five occurrences");

        var fired = Firings(first).Concat(Firings(second)).ToList();
        var firstFour = fired.Distinct().Order().Take(4).ToList();
        Assert.All(firstFour, occurrence => Assert.Single(fired, f => f == occurrence));
        Assert.True((await TicksAsync(first, "Tick")).Count >= 4, "the worker ran for the first four occurrences");
        Assert.Contains(first.Logs.Entries, e => e.EventId.Id == 3101);
        Assert.Contains(second.Logs.Entries, e => e.EventId.Id == 3101);
    }

    /// <summary>The occurrences this host fired Tick for, as its log says (3102).</summary>
    private static List<DateTimeOffset> Firings(SampleHost app) =>
        app.Logs.Entries.Where(e => e.EventId.Id == 3102).Select(e => TickFiring().Match(e.Message)).Where(m => m.Success)
            .Select(m => DateTimeOffset.Parse(m.Groups["occurrence"].Value, CultureInfo.InvariantCulture))
            .ToList();

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

    private sealed record TickRecord(string Function, DateTimeOffset? Occurrence, bool IsPastDue);

    [GeneratedRegex(@"^Timer function Tick firing for (?<occurrence>.+) \(past due (True|False)\)$")]
    private static partial Regex TickFiring();
}
