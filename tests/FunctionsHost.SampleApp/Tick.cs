using System.Text.Json;
using Microsoft.Azure.Functions.Worker;

namespace DecentCloud.FunctionsHost.SampleApp;

/// <summary>A timer function on a schedule from settings: reports each firing on the ticks queue.</summary>
public sealed class Tick
{
    [Function(nameof(Tick))]
    [QueueOutput("%SAMPLE_TICKS_QUEUE%")]
    public string Run([TimerTrigger("%SAMPLE_TICK_SCHEDULE%")] TimerInfo timer) =>
        JsonSerializer.Serialize(new TickRecord(nameof(Tick), timer.ScheduleStatus?.Next, timer.IsPastDue));
}

/// <summary>A timer function due once a year that also runs whenever the app starts.</summary>
public sealed class StartupTick
{
    [Function(nameof(StartupTick))]
    [QueueOutput("%SAMPLE_TICKS_QUEUE%")]
    public string Run([TimerTrigger("0 0 0 1 1 *", RunOnStartup = true)] TimerInfo timer) =>
        JsonSerializer.Serialize(new TickRecord(nameof(StartupTick), timer.ScheduleStatus?.Next, timer.IsPastDue));
}

/// <param name="Occurrence">The occurrence this firing is for, as the schedule monitor recorded it; null when it is not a scheduled one.</param>
public sealed record TickRecord(string Function, DateTime? Occurrence, bool IsPastDue);
