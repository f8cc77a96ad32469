using System.Text.Json;
using Cronos;
using DecentCloud.FunctionsHost.Worker;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace DecentCloud.FunctionsHost.Timers;

/// <summary>The schedule monitor's record, as Functions keeps it in <c>azure-webjobs-hosts/timers/...</c>.</summary>
internal sealed record ScheduleStatus(DateTimeOffset Last, DateTimeOffset Next, DateTimeOffset LastUpdated);

/// <summary>
/// A timer function's trigger: its NCRONTAB schedule (UTC; six fields from the second, or five from the minute, as the
/// timer extension reads it), runOnStartup and useMonitor.
/// </summary>
internal sealed record TimerSchedule(string Expression, CronExpression Cron, bool RunOnStartup, bool UseMonitor)
{
    public const string TriggerType = "timerTrigger";

    /// <summary>Each field after the second, with the range that makes it match every value (NCRONTAB writes such a field as <c>*</c>).</summary>
    private static readonly (int Min, int Max)[] WholeRanges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)];

    public static TimerSchedule Of(FunctionDescriptor function, string expression)
    {
        var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        CronExpression cron;
        try
        {
            cron = CronExpression.Parse(expression, fields.Length == 5 ? CronFormat.Standard : CronFormat.IncludeSeconds);
        }
        catch (CronFormatException ex)
        {
            throw new InvalidOperationException($"Timer function {function.Name} has schedule '{expression}', which is not an NCRONTAB expression (second minute hour day month day-of-week, or the last five of them).", ex);
        }

        var useMonitor = UsesMonitor(function.Trigger) && !FiresMoreThanOncePerMinute(fields, cron);
        return new TimerSchedule(expression, cron, function.Trigger.Flag("runOnStartup") ?? false, useMonitor);
    }

    /// <summary>Whether the trigger asks for a schedule status (<c>useMonitor</c>, true unless turned off).</summary>
    public static bool UsesMonitor(BindingDescriptor trigger) => trigger.Flag("useMonitor") ?? true;

    /// <summary>
    /// True for a schedule the timer extension never monitors, whatever useMonitor says: one whose fields from the minute
    /// on match every value and whose second field fires more than once a minute (<c>*/2 * * * * *</c>). Its missed
    /// occurrences are not run after downtime, and the function gets no schedule status.
    /// </summary>
    private static bool FiresMoreThanOncePerMinute(string[] fields, CronExpression cron)
    {
        if (fields.Length != 6 || fields.Skip(1).Where((field, index) => !MatchesEveryValue(field, WholeRanges[index])).Any())
        {
            return false;
        }

        // Every minute is alike when the fields from the minute on match every value: any one will do.
        var minute = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        return cron.GetOccurrences(minute, minute.AddMinutes(1), TimeZoneInfo.Utc, fromInclusive: true, toInclusive: false).Skip(1).Any();
    }

    private static bool MatchesEveryValue(string field, (int Min, int Max) range) =>
        field is "*" or "?" or "*/1" || field == $"{range.Min}-{range.Max}";

    /// <summary>The next occurrence after <paramref name="instant"/>; never, for a schedule that has none.</summary>
    public DateTimeOffset NextAfter(DateTimeOffset instant) =>
        Cron.GetNextOccurrence(instant.UtcDateTime, TimeZoneInfo.Utc) is { } next ? new DateTimeOffset(next, TimeSpan.Zero) : DateTimeOffset.MaxValue;

    /// <summary>
    /// The invocation the worker's timer extension reads: a TimerInfo as JSON (its schedule status, null when the
    /// monitor is off or for a runOnStartup run, and whether the run is late).
    /// </summary>
    /// <param name="useMonitor">Whether the schedule is monitored (<see cref="UseMonitor"/> of the parsed schedule).</param>
    public static InvocationRequest Request(BindingDescriptor trigger, ScheduleStatus? status, bool isPastDue, bool useMonitor)
    {
        var request = new InvocationRequest();
        var timer = new
        {
            Schedule = new { AdjustForDST = true },
            ScheduleStatus = useMonitor ? status : null,
            IsPastDue = isPastDue,
        };
        request.InputData.Add(new ParameterBinding { Name = trigger.Name, Data = new TypedData { Json = JsonSerializer.Serialize(timer) } });
        return request;
    }
}
