using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Ledger.Releases;

/// <summary>
/// Timer, every hour: once a release period (<c>PAYMENT_RELEASE_INTERVAL_HOURS</c>) has ended, releases every paid
/// contract's earned share for it (<see cref="PaymentReleases"/>). The run's mark records the period once every contract
/// was released for it, so the other runs of the period only read the mark; a run that failed for some contract leaves
/// the mark, and the next run goes over the period again (what was released is not released twice).
/// </summary>
public sealed partial class ReleasePayments(PaymentReleases releases, LedgerStore store, IOptionsMonitor<ReleaseOptions> options, TimeProvider time, ILogger<ReleasePayments> logger)
{
    public const string MarkRowKey = "releases";

    [Function(nameof(ReleasePayments))]
    public async Task Run([TimerTrigger("0 7 * * * *")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var periodEnd = options.CurrentValue.PeriodEnd(now);
        var mark = await store.FindAsync<RunMarkEntity>(LedgerStore.RunsPartition, MarkRowKey, cancellationToken);
        if (mark?.CompletedThrough >= periodEnd)
        {
            LogNothingDue(logger, periodEnd);
            return;
        }

        var run = await releases.ReleaseAllAsync(now, cancellationToken);
        if (run.Failed > 0)
        {
            throw new InvalidOperationException($"{run.Failed} of {run.Contracts} contracts could not be released up to {periodEnd:O} (event 8903 for each); the next run tries them again");
        }

        mark ??= new RunMarkEntity { RowKey = MarkRowKey };
        mark.CompletedThrough = periodEnd;
        mark.CompletedAt = time.GetUtcNow();
        // Another instance's mark for the same period is as good as this one: a refused write changes nothing.
        await store.TryWriteAllAsync([mark], cancellationToken);
    }

    [LoggerMessage(EventId = 8904, Level = LogLevel.Debug, Message = "Releases up to {PeriodEnd:O} are done already")]
    private static partial void LogNothingDue(ILogger logger, DateTimeOffset periodEnd);
}
