using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Billing.Icpay;

/// <summary>
/// Timer: queues again each ICPay event whose row is still <c>received</c> some minutes after it arrived (its processing
/// failed into the poison queue, its message was deleted, or the app stopped between recording and queueing it), at
/// most <c>ICPAY_REDRIVE_MAX</c> times with a doubling wait, as <c>RedriveStripeEvents</c> does for Stripe. The
/// re-drive is counted on the row under its ETag first, so two instances never both queue one event.
/// </summary>
public sealed partial class RedriveIcpayEvents(IcpayEventStore events, Platform.Queues.QueueWriter queues, IOptions<IcpayOptions> options, TimeProvider time, ILogger<RedriveIcpayEvents> logger)
{
    public const int MaxPerRun = 500;

    [Function(nameof(RedriveIcpayEvents))]
    public async Task Run([TimerTrigger("25 */5 * * * *")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        var requeued = 0;
        await foreach (var stuck in events.StuckAsync(now - settings.RedriveAfter, cancellationToken))
        {
            if (requeued >= MaxPerRun)
            {
                break;
            }

            if (stuck.Requeues >= settings.MaxRedrives
                || (stuck.RequeuedAt is { } last && now - last < settings.RedriveAfter * Math.Pow(2, stuck.Requeues))
                || !await events.TryCountRequeueAsync(stuck, now, cancellationToken))
            {
                continue;
            }

            await queues.SendAsync(IcpayEventMessage.QueueName, new IcpayEventMessage(stuck.EventId), cancellationToken: cancellationToken);
            requeued++;
            LogRequeued(logger, stuck.EventId, stuck.Type, stuck.ReceivedAt, stuck.Requeues + 1, settings.MaxRedrives);
            if (stuck.Requeues + 1 == settings.MaxRedrives)
            {
                LogLastRedrive(logger, stuck.EventId, stuck.Type, settings.MaxRedrives);
            }
        }
    }

    [LoggerMessage(EventId = 8707, Level = LogLevel.Warning, Message = "ICPay event {EventId} ({Type}) received at {ReceivedAt} was never processed; queued again (re-drive {Requeue} of {Max})")]
    private static partial void LogRequeued(ILogger logger, string eventId, string type, DateTimeOffset receivedAt, int requeue, int max);

    [LoggerMessage(EventId = 8708, Level = LogLevel.Error, Message = "ICPay event {EventId} ({Type}) re-driven {Max} times, the last time it will be; if it fails again it stays in the poison queue of icpay-events for an admin")]
    private static partial void LogLastRedrive(ILogger logger, string eventId, string type, int max);
}
