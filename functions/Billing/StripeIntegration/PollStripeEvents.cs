using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Billing.StripeIntegration;

/// <summary>
/// Timer: asks Stripe for the recent events of the types this app handles (<c>GET /v1/events</c>, created after the
/// newest one seen, every page) and feeds each one it has not recorded through <see cref="StripeEventIntake"/>, the
/// webhook's own path: a webhook that never arrived (an outage, a deleted endpoint, a misconfigured secret) is still
/// applied. Events younger than <c>STRIPE_POLL_SETTLE_SECONDS</c> are left for the next run, so their webhook usually
/// wins; a copy queued anyway is harmless, since processing deduplicates by event id.
/// </summary>
public sealed partial class PollStripeEvents(
    StripeEventList stripe,
    StripeEventStore events,
    StripeEventIntake intake,
    IOptions<StripeReconcileOptions> options,
    TimeProvider time,
    ILogger<PollStripeEvents> logger)
{
    /// <summary>Bounds one run: 50 pages. A window with more events is read again, newest first, on the next run.</summary>
    public const int MaxPages = 50;

    /// <summary>
    /// Stripe timestamps are whole seconds and an event may appear in the list a moment after others of its second:
    /// each run reads again from a minute before the newest event seen.
    /// </summary>
    private static readonly TimeSpan Overlap = TimeSpan.FromMinutes(1);

    [Function(nameof(PollStripeEvents))]
    public async Task Run([TimerTrigger("45 */5 * * * *")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        var upTo = await events.PolledUpToAsync(cancellationToken);
        var after = upTo is { } seen ? seen - Overlap : now - TimeSpan.FromHours(settings.PollLookbackHours);
        var before = now - TimeSpan.FromSeconds(settings.PollSettleSeconds);
        if (before <= after)
        {
            return;
        }

        var (found, queued, pages) = (0, 0, 0);
        var newest = upTo;
        string? startingAfter = null;
        var complete = false;
        while (pages < MaxPages)
        {
            var page = await stripe.PageAsync(ProcessStripeEvent.HandledTypes, after, before, startingAfter, cancellationToken);
            pages++;
            foreach (var body in page.Events)
            {
                found++;
                if (StripeEventJson.Head(body) is not { } head)
                {
                    LogUnreadable(logger, body.Length);
                    continue;
                }

                newest = newest is { } n && n >= head.Created ? n : head.Created;
                if (await events.ExistsAsync(head.Id, cancellationToken))
                {
                    continue;
                }

                await intake.QueueAsync(head, body, now, cancellationToken);
                queued++;
                LogFound(logger, head.Id, head.Type, head.Created);
            }

            if (!page.HasMore || page.Events.Count == 0)
            {
                complete = true;
                break;
            }

            startingAfter = StripeEventJson.Head(page.Events[^1])?.Id;
            if (startingAfter is null)
            {
                break;
            }
        }

        if (!complete)
        {
            // The oldest events of the window were not reached: keep the mark where it was so the next run reads them.
            LogIncomplete(logger, pages, found, after);
            return;
        }

        if (newest is { } mark)
        {
            await events.SavePolledUpToAsync(mark, now, found, queued, cancellationToken);
        }

        LogPolled(logger, found, queued, after, before);
    }

    [LoggerMessage(EventId = 8104, Level = LogLevel.Warning, Message = "Stripe event {EventId} ({Type}, created {Created}) was never delivered by its webhook; found in Stripe's event list and queued")]
    private static partial void LogFound(ILogger logger, string eventId, string type, DateTimeOffset created);

    [LoggerMessage(EventId = 8105, Level = LogLevel.Information, Message = "Polled Stripe's events created between {After} and {Before}: {Found} listed, {Queued} not seen before and queued")]
    private static partial void LogPolled(ILogger logger, int found, int queued, DateTimeOffset after, DateTimeOffset before);

    [LoggerMessage(EventId = 8106, Level = LogLevel.Warning, Message = "Polled {Pages} pages ({Found} events) of Stripe's events since {After} without reaching the oldest; the next run reads the window again")]
    private static partial void LogIncomplete(ILogger logger, int pages, int found, DateTimeOffset after);

    [LoggerMessage(EventId = 8107, Level = LogLevel.Error, Message = "Stripe's event list held an entry of {Length} characters that is not an event with an id, a type and a created time; skipped")]
    private static partial void LogUnreadable(ILogger logger, int length);
}
