using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using DecentCloud.FunctionsHost.Storage;
using DecentCloud.FunctionsHost.Worker;

namespace DecentCloud.FunctionsHost.Timers;

/// <summary>
/// Runs one timer function on one instance. Every instance keeps the schedule, and each occurrence is fired by exactly
/// one of them: the one that takes the function's lock blob lease first and finds, in the schedule status blob, that
/// the occurrence has not run yet. The status blob is the schedule monitor: after downtime its <c>Next</c> lies in the
/// past, and that one missed occurrence runs at once as past due, however many were missed.
/// </summary>
internal sealed partial class TimerListener(
    FunctionDescriptor function,
    TimerSchedule schedule,
    BlobContainerClient container,
    string hostId,
    FunctionInvoker invoker,
    TimeProvider time,
    ILogger<TimerListener> logger) : BackgroundService
{
    public const string ContainerName = "azure-webjobs-hosts";

    // Blob leases last 15 to 60 seconds; renewed every third, a lost instance frees the lock within a minute.
    private static readonly TimeSpan LockDuration = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan BusyRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StorageFailureRetry = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);

    private readonly BlobClient statusBlob = container.GetBlobClient(StatusBlobName(hostId, function.Name));
    private readonly BlobClient lockBlob = container.GetBlobClient($"locks/{hostId}/{function.Name}/timer");

    private enum Outcome
    {
        Fired,
        AlreadyRun,
        Busy,
    }

    /// <summary>Where the schedule monitor keeps a timer function's status, as docs/host.md describes.</summary>
    public static string StatusBlobName(string hostId, string function) => $"timers/{hostId}/{function}/status";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await EnsureBlobsAsync(stoppingToken);
        LogScheduled(logger, function.Name, schedule.Expression, schedule.UseMonitor, schedule.RunOnStartup);

        if (schedule.RunOnStartup)
        {
            // As in Functions: every instance that starts runs it once, outside the schedule, with the schedule's status
            // (an initial one when none is stored yet); when the monitor finds a missed occurrence, its past-due run is
            // the start-up run instead.
            ScheduleStatus? stored = null;
            await StorageRetry.UntilReadyAsync(
                async () => (stored, _) = await ReadStatusAsync(statusBlob, stoppingToken),
                $"reading the schedule status of timer function {function.Name}",
                time,
                logger,
                stoppingToken);
            var now = time.GetUtcNow();
            if (!(schedule.UseMonitor && stored is not null && stored.Next <= now))
            {
                await InvokeAsync(stored ?? new ScheduleStatus(DateTimeOffset.MinValue, schedule.NextAfter(now), DateTimeOffset.MinValue), isPastDue: false, occurrence: null, stoppingToken);
            }
        }

        var starting = true;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    starting = await RunOnceAsync(starting, stoppingToken);
                }
                catch (Exception ex) when (StorageRetry.IsStorageFailure(ex, stoppingToken))
                {
                    LogStorageFailed(logger, ex, function.Name, StorageFailureRetry.TotalSeconds);
                    await Task.Delay(StorageFailureRetry, time, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            LogStopped(logger, function.Name);
        }
    }

    /// <summary>Waits for the next due occurrence and fires it if this instance wins it.</summary>
    /// <param name="starting">True on the first pass after start, when a missed occurrence may be found.</param>
    /// <returns>False: every later pass is not the first.</returns>
    private async Task<bool> RunOnceAsync(bool starting, CancellationToken stoppingToken)
    {
        var (status, _) = await ReadStatusAsync(statusBlob, stoppingToken);
        var now = time.GetUtcNow();
        DateTimeOffset due;
        if (status is null)
        {
            due = schedule.NextAfter(now);
            await WriteStatusAsync(new ScheduleStatus(DateTimeOffset.MinValue, due, now), etag: null);
        }
        else if (starting && !schedule.UseMonitor && status.Next <= now)
        {
            // Without the monitor, occurrences missed while the app was down are skipped.
            due = schedule.NextAfter(now);
        }
        else
        {
            due = status.Next;
        }

        var late = due <= now;
        if (!late)
        {
            await WaitUntilAsync(due, time, stoppingToken);
        }

        if (await TryFireAsync(due, late, stoppingToken) == Outcome.Busy)
        {
            await Task.Delay(BusyRetry, time, stoppingToken);
        }

        return false;
    }

    /// <summary>
    /// Waits until <paramref name="due"/> in slices: one <see cref="Task.Delay(TimeSpan, TimeProvider, CancellationToken)"/>
    /// cannot wait longer than about 49.7 days, and a yearly schedule (or one with no next occurrence) waits longer.
    /// </summary>
    internal static async Task WaitUntilAsync(DateTimeOffset due, TimeProvider time, CancellationToken stoppingToken)
    {
        for (var left = due - time.GetUtcNow(); left > TimeSpan.Zero; left = due - time.GetUtcNow())
        {
            await Task.Delay(left < LongestWait ? left : LongestWait, time, stoppingToken);
        }
    }

    private async Task<Outcome> TryFireAsync(DateTimeOffset occurrence, bool isPastDue, CancellationToken stoppingToken)
    {
        var lease = lockBlob.GetBlobLeaseClient();
        try
        {
            await lease.AcquireAsync(LockDuration, cancellationToken: stoppingToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return Outcome.Busy;
        }

        using var renewal = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var renewing = RenewAsync(lease, renewal.Token);
        try
        {
            var (status, etag) = await ReadStatusAsync(statusBlob, stoppingToken);
            if (status is not null && status.Last >= occurrence)
            {
                return Outcome.AlreadyRun;
            }

            if (!await InvokeAsync(status, isPastDue, occurrence, stoppingToken))
            {
                // Cut short by shutdown: the status stays as it was, so the occurrence runs after restart.
                return Outcome.Fired;
            }

            var now = time.GetUtcNow();
            await WriteStatusAsync(new ScheduleStatus(occurrence, schedule.NextAfter(now > occurrence ? now : occurrence), now), etag);
            return Outcome.Fired;
        }
        finally
        {
            await renewal.CancelAsync();
            await renewing;
            await ReleaseAsync(lease);
        }
    }

    /// <summary>Runs the function in a trace of its own; answers false only when the host stopping cut it short.</summary>
    private async Task<bool> InvokeAsync(ScheduleStatus? status, bool isPastDue, DateTimeOffset? occurrence, CancellationToken stoppingToken)
    {
        using var activity = HostActivity.Start($"timer {function.Name}");
        LogFiring(logger, function.Name, occurrence, isPastDue);
        try
        {
            await invoker.InvokeAsync(function, TimerSchedule.Request(function.Trigger, status, isPastDue, schedule.UseMonitor), stoppingToken);
            return true;
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
        catch (FunctionInvocationException ex)
        {
            // The worker has logged the function's exception whole, under this run's trace id.
            LogFailed(logger, function.Name, occurrence, ex.InnerException?.Message);
            return true;
        }
        catch (Exception ex) when (ex is not WorkerUnavailableException)
        {
            LogNotCompleted(logger, ex, function.Name, occurrence);
            return true;
        }
    }

    private Task EnsureBlobsAsync(CancellationToken cancellationToken) =>
        StorageRetry.UntilReadyAsync(
            async () =>
            {
                await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
                try
                {
                    await lockBlob.UploadAsync(BinaryData.Empty, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken);
                }
                catch (RequestFailedException ex) when (ex.Status is 409 or 412)
                {
                    // The lock blob exists already (another instance, or an earlier run, created it).
                }
            },
            $"preparing the lock blob of timer function {function.Name}",
            time,
            logger,
            cancellationToken);

    /// <summary>The schedule status a status blob holds, with its ETag; nulls when there is none yet.</summary>
    public static async Task<(ScheduleStatus? Status, ETag? ETag)> ReadStatusAsync(BlobClient statusBlob, CancellationToken cancellationToken)
    {
        try
        {
            var content = await statusBlob.DownloadContentAsync(cancellationToken);
            return (content.Value.Content.ToObjectFromJson<ScheduleStatus>(), content.Value.Details.ETag);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return (null, null);
        }
    }

    private async Task WriteStatusAsync(ScheduleStatus status, ETag? etag)
    {
        var conditions = etag is { } match ? new BlobRequestConditions { IfMatch = match } : new BlobRequestConditions { IfNoneMatch = ETag.All };
        try
        {
            await statusBlob.UploadAsync(BinaryData.FromObjectAsJson(status), new BlobUploadOptions { Conditions = conditions }, CancellationToken.None);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Another instance wrote the status first; its record stands, and this loop reads it next.
            LogStatusRace(logger, function.Name);
        }
    }

    private async Task RenewAsync(BlobLeaseClient lease, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(LockDuration / 3, time, cancellationToken);
                await lease.RenewAsync(cancellationToken: cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run is over.
        }
        catch (RequestFailedException ex)
        {
            LogLockLost(logger, ex, function.Name);
        }
    }

    private async Task ReleaseAsync(BlobLeaseClient lease)
    {
        try
        {
            await lease.ReleaseAsync(cancellationToken: CancellationToken.None);
        }
        catch (RequestFailedException ex)
        {
            // The lease then simply runs out; other instances wait at most LockDuration.
            LogReleaseFailed(logger, ex, function.Name);
        }
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Timer function {Function} scheduled '{Schedule}' (useMonitor {UseMonitor}, runOnStartup {RunOnStartup})")]
    private static partial void LogScheduled(ILogger logger, string function, string schedule, bool useMonitor, bool runOnStartup);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "Timer function {Function} firing for {Occurrence} (past due {IsPastDue})")]
    private static partial void LogFiring(ILogger logger, string function, DateTimeOffset? occurrence, bool isPastDue);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Error, Message = "Timer function {Function} failed for {Occurrence}; the schedule goes on: {Error}")]
    private static partial void LogFailed(ILogger logger, string function, DateTimeOffset? occurrence, string? error);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Warning, Message = "Timer function {Function}: another instance wrote the schedule status first")]
    private static partial void LogStatusRace(ILogger logger, string function);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Warning, Message = "Timer function {Function} lost its lock while running")]
    private static partial void LogLockLost(ILogger logger, Exception exception, string function);

    [LoggerMessage(EventId = 3106, Level = LogLevel.Warning, Message = "Timer function {Function} could not release its lock; it runs out by itself")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string function);

    [LoggerMessage(EventId = 3107, Level = LogLevel.Information, Message = "Timer function {Function} stopped")]
    private static partial void LogStopped(ILogger logger, string function);

    [LoggerMessage(EventId = 3108, Level = LogLevel.Warning, Message = "Timer function {Function} could not reach storage; trying again in {DelaySeconds} s")]
    private static partial void LogStorageFailed(ILogger logger, Exception exception, string function, double delaySeconds);

    [LoggerMessage(EventId = 3109, Level = LogLevel.Error, Message = "Timer function {Function} ran for {Occurrence} but could not complete; the schedule goes on")]
    private static partial void LogNotCompleted(ILogger logger, Exception exception, string function, DateTimeOffset? occurrence);
}
