namespace DecentCloud.Functions.Health;

/// <summary>
/// Checks storage once as the host starts, in the background: the log says at once whether the app can
/// reach its storage account, and the first health request finds the storage clients already built.
/// </summary>
internal sealed partial class StorageStartupCheck(StorageProbe probe, ILogger<StorageStartupCheck> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let the host finish starting (Kestrel binds after hosted services start) before the first I/O.
        await Task.Yield();
        var health = await probe.CheckAsync(stoppingToken);
        if (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        if (health.Reachable)
        {
            LogReachable(logger);
        }
        else
        {
            LogUnreachable(logger, health.Tables, health.Blobs, health.Queues);
        }
    }

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Storage reachable: tables, blobs and queues answered")]
    private static partial void LogReachable(ILogger logger);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Storage not reachable at start (tables {Tables}, blobs {Blobs}, queues {Queues}); /api/health answers 503 until it is")]
    private static partial void LogUnreachable(ILogger logger, bool tables, bool blobs, bool queues);
}
