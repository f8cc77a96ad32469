using DecentCloud.FunctionsHost.Timers;
using DecentCloud.FunctionsHost.Worker;
using DecentCloud.Tests.Support;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;
using Microsoft.Extensions.Time.Testing;

namespace DecentCloud.Tests.LocalHost;

/// <summary>
/// How the local Functions host reads a timer trigger's schedule and waits for its next occurrence, on a fake clock:
/// waits of months cannot be shown on a real one.
/// </summary>
public sealed class TimerScheduleTests
{
    private static readonly DateTimeOffset February = new(2026, 2, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset NewYear = new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Yearly_schedule_waits_past_the_longest_single_delay_and_ends_on_time()
    {
        var time = new FakeTimeProvider(February);
        var due = Schedule("0 0 0 1 1 *").NextAfter(time.GetUtcNow());
        Assert.Equal(NewYear, due);

        // 334 days is more than one Task.Delay can wait (about 49.7 days); a wait that tried would fail at once.
        var waiting = TimerListener.WaitUntilAsync(due, time, CancellationToken.None);
        DateTimeOffset? endedAt = null;
        await Eventually.HoldsAsync(
            () =>
            {
                if (waiting.IsCompleted)
                {
                    endedAt ??= time.GetUtcNow();
                    return true;
                }

                var left = due - time.GetUtcNow();
                time.Advance(left < TimeSpan.FromDays(30) ? left : TimeSpan.FromDays(30));
                return false;
            },
            "the wait for 1 January ended");

        Assert.True(waiting.IsCompletedSuccessfully, $"the wait ended with {waiting.Exception}");
        Assert.Equal(NewYear, endedAt);
    }

    [Theory]
    [InlineData("0 */5 * * * *", "2026-02-01T12:05:00Z")]
    [InlineData("*/5 * * * *", "2026-02-01T12:05:00Z")]
    [InlineData("30 0 12 * * 1-5", "2026-02-02T12:00:30Z")]
    [InlineData("0 0 0 1 1 *", "2027-01-01T00:00:00Z")]
    public void Schedule_has_six_fields_from_the_second_or_five_from_the_minute_as_the_timer_extension_reads_it(string expression, string next)
    {
        var after = new DateTimeOffset(2026, 2, 1, 12, 3, 10, TimeSpan.Zero);

        Assert.Equal(DateTimeOffset.Parse(next, System.Globalization.CultureInfo.InvariantCulture), Schedule(expression).NextAfter(after));
    }

    [Theory]
    [InlineData("every five minutes")]
    [InlineData("*/5 * * *")]
    [InlineData("61 * * * * *")]
    public void Schedule_that_is_not_ncrontab_is_refused_naming_the_function(string expression)
    {
        var refused = Assert.Throws<InvalidOperationException>(() => Schedule(expression));

        Assert.Contains("Tick", refused.Message, StringComparison.Ordinal);
        Assert.Contains(expression, refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0 */5 * * * *", null, true)]
    [InlineData("0 * * * * *", null, true)]
    [InlineData("*/5 * * * *", null, true)]
    [InlineData("0 */5 * * * *", false, false)]
    [InlineData("*/2 * * * * *", null, false)]
    [InlineData("*/2 * * * * *", true, false)]
    [InlineData("0,30 * * * * *", null, false)]
    [InlineData("*/2 0-59 * * * *", null, false)]
    [InlineData("*/2 0-29 * * * *", null, true)]
    public void Schedule_is_monitored_unless_it_says_not_to_or_its_fields_from_the_minute_match_every_value_and_it_fires_more_than_once_a_minute(
        string expression,
        bool? useMonitor,
        bool monitored)
    {
        Assert.Equal(monitored, Schedule(expression, useMonitor).UseMonitor);
    }

    private static TimerSchedule Schedule(string expression, bool? useMonitor = null)
    {
        var monitor = useMonitor is { } flag ? $", \"useMonitor\": {(flag ? "true" : "false")}" : "";
        var metadata = new RpcFunctionMetadata { Name = "Tick", FunctionId = "tick" };
        metadata.RawBindings.Add($$"""{ "name": "timer", "direction": "In", "type": "timerTrigger", "schedule": "{{expression}}"{{monitor}} }""");
        return TimerSchedule.Of(FunctionDescriptor.From(metadata), expression);
    }
}
