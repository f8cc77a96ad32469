using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Billing.StripeIntegration;

/// <summary>
/// Timer: re-queues Stripe events whose row is still <c>received</c> some minutes after it arrived. Such a row was
/// recorded but never finished: its processing failed until the message went to the poison queue, an admin deleted the
/// message, or the app stopped between recording a large event and queueing it. Each event is re-driven at most
/// <c>STRIPE_REDRIVE_MAX</c> times, with a doubling wait, so one that always fails does not fill the poison queue; it
/// is then logged at Error once and left to the admins. The re-drive is counted on the row under its ETag first, so two
/// instances of this timer never both re-queue one event.
/// </summary>
public sealed partial class RedriveStripeEvents(
    StripeEventStore events,
    StripeEventIntake intake,
    IOptions<StripeReconcileOptions> options,
    TimeProvider time,
    ILogger<RedriveStripeEvents> logger)
{
    /// <summary>Bounds one run; what is left goes on the next.</summary>
    public const int MaxPerRun = 500;

    [Function(nameof(RedriveStripeEvents))]
    public async Task Run([TimerTrigger("15 */5 * * * *")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        var (requeued, waiting, given) = (0, 0, 0);
        await foreach (var stuck in events.StuckAsync(now - settings.RedriveAfter, cancellationToken))
        {
            if (requeued >= MaxPerRun)
            {
                break;
            }

            if (stuck.Requeues >= settings.MaxRedrives)
            {
                given++;
                continue;
            }

            // The first re-drive comes RedriveAfter after arrival, the next twice as long after the previous one, and so on.
            if (stuck.RequeuedAt is { } last && now - last < settings.RedriveAfter * Math.Pow(2, stuck.Requeues))
            {
                waiting++;
                continue;
            }

            if (!await events.TryCountRequeueAsync(stuck, now, cancellationToken))
            {
                continue;
            }

            await intake.RequeueAsync(stuck.EventId, stuck.Type, stuck.Created, cancellationToken);
            requeued++;
            LogRequeued(logger, stuck.EventId, stuck.Type, stuck.ReceivedAt, stuck.Requeues + 1, settings.MaxRedrives);
            if (stuck.Requeues + 1 == settings.MaxRedrives)
            {
                LogLastRedrive(logger, stuck.EventId, stuck.Type, settings.MaxRedrives);
            }
        }

        LogSwept(logger, requeued, waiting, given);
    }

    [LoggerMessage(EventId = 8101, Level = LogLevel.Warning, Message = "Stripe event {EventId} ({Type}) received at {ReceivedAt} was never processed; queued again (re-drive {Requeue} of {Max})")]
    private static partial void LogRequeued(ILogger logger, string eventId, string type, DateTimeOffset receivedAt, int requeue, int max);

    [LoggerMessage(EventId = 8102, Level = LogLevel.Error, Message = "Stripe event {EventId} ({Type}) re-driven {Max} times, the last time it will be; if it fails again it stays in the poison queue of stripe-events for an admin")]
    private static partial void LogLastRedrive(ILogger logger, string eventId, string type, int max);

    [LoggerMessage(EventId = 8103, Level = LogLevel.Information, Message = "Stripe events re-driven: {Requeued} queued again, {Waiting} waiting for their next re-drive, {GivenUp} left to the admins")]
    private static partial void LogSwept(ILogger logger, int requeued, int waiting, int givenUp);
}
