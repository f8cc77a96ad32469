
namespace DecentCloud.Functions.Identity;

/// <summary>
/// Deletes nonces whose signing window has closed: a request carrying one would be refused for its
/// timestamp anyway, so the row no longer guards against anything.
/// </summary>
public sealed partial class PurgeExpiredNonces(NonceStore nonces, TimeProvider time, ILogger<PurgeExpiredNonces> logger)
{
    /// <summary>Bounds one run's work; what is left goes on the next run.</summary>
    public const int MaxPerRun = 5000;

    [Function(nameof(PurgeExpiredNonces))]
    public async Task Run([TimerTrigger("0 */10 * * * *")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var (deleted, more) = await nonces.DeleteExpiredAsync(time.GetUtcNow(), MaxPerRun, cancellationToken);
        if (more)
        {
            LogPurgedWithMore(logger, deleted);
        }
        else
        {
            LogPurged(logger, deleted);
        }
    }

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "Deleted {Count} expired signature nonces")]
    private static partial void LogPurged(ILogger logger, int count);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "Deleted {Count} expired signature nonces, the most one run takes; the rest wait for the next run")]
    private static partial void LogPurgedWithMore(ILogger logger, int count);
}
