using Azure;

namespace DecentCloud.Functions.Platform;

/// <summary>
/// Start-up work against storage that must not stop the host when storage is not there yet (Azurite
/// still starting, a network blip): it is retried with back-off, each failure logged, while
/// /api/health reports storage as unreachable.
/// </summary>
internal static partial class StorageRetry
{
    private static readonly TimeSpan MaximumDelay = TimeSpan.FromSeconds(30);

    public static async Task UntilReadyAsync(Func<Task> work, string what, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(500);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await work();
                return;
            }
            catch (Exception ex) when (IsStorageFailure(ex, cancellationToken) && ex is not RequestFailedException { Status: > 0 and < 500 })
            {
                LogNotReady(logger, ex, what, attempt, delay.TotalSeconds);
            }

            await Task.Delay(delay, time, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaximumDelay.Ticks));
        }
    }

    /// <summary>
    /// A failure of the storage service or of the way to it, not of the caller: a refusal, the SDK's own
    /// network timeout (a cancellation the caller did not ask for), or, after the SDK's retries, the
    /// AggregateException Azure.Core throws when every attempt failed in one of those ways.
    /// </summary>
    public static bool IsStorageFailure(Exception exception, CancellationToken callerToken) =>
        !callerToken.IsCancellationRequested && exception switch
        {
            RequestFailedException or OperationCanceledException => true,
            AggregateException aggregate => aggregate.InnerExceptions.All(inner => inner is RequestFailedException or OperationCanceledException),
            _ => false,
        };

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Storage not ready while {What} (attempt {Attempt}); trying again in {DelaySeconds:F1} s")]
    private static partial void LogNotReady(ILogger logger, Exception exception, string what, int attempt, double delaySeconds);
}
