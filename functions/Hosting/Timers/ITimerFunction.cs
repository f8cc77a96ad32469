namespace DecentCloud.Functions.Hosting.Timers;

/// <summary>A timer-triggered function. An exception is logged; the schedule goes on (as in Functions, a timer is not retried).</summary>
public interface ITimerFunction
{
    Task Run(TimerInfo timer, CancellationToken cancellationToken);
}

/// <summary>What the Functions host hands a timer function: the schedule's status and whether this run is late.</summary>
/// <param name="ScheduleStatus">Last and next occurrence as the schedule monitor recorded them; null when the monitor is off.</param>
/// <param name="IsPastDue">True when this run is for an occurrence that was missed (the app was down) or is late.</param>
/// <param name="Occurrence">The scheduled time this run is for; null for a runOnStartup run.</param>
public sealed record TimerInfo(ScheduleStatus? ScheduleStatus, bool IsPastDue, DateTimeOffset? Occurrence);

/// <summary>The schedule monitor's record, as Functions keeps it in <c>azure-webjobs-hosts/timers/...</c>.</summary>
public sealed record ScheduleStatus(DateTimeOffset Last, DateTimeOffset Next, DateTimeOffset LastUpdated);
