using Azure;
using Azure.Storage.Queues;

namespace DecentCloud.FunctionsHost.Durable;

/// <summary>
/// Starts the app's task hub, and keeps trying when the storage account cannot be reached at start-up: the host serves
/// its other functions meanwhile (its health endpoint says storage is unreachable), as the Functions host keeps running
/// when a trigger's listener cannot start and retries it. Until the hub runs, no orchestrator or activity runs and a
/// function with a durable client binding gets none.
/// </summary>
internal sealed partial class TaskHubStarter(LocalTaskHubOptions options, IDurableFunctionInvoker invoker, DurableClientBindings bindings, ILoggerFactory loggers) : IAsyncDisposable
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    private readonly ILogger logger = loggers.CreateLogger<TaskHubStarter>();
    private readonly CancellationTokenSource stopping = new();
    private Task retrying = Task.CompletedTask;

    /// <summary>The running task hub; null until it could be created.</summary>
    public LocalTaskHub? Hub => bindings.Hub;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            // One quick question first: the hub's own storage calls retry for half a minute before they give up, which
            // would hold up the host that long when the account is simply not there.
            await ProbeAsync(cancellationToken);
            bindings.Hub = await LocalTaskHub.StartAsync(options, invoker, loggers, cancellationToken);
        }
        catch (TaskHubUnavailableException ex)
        {
            LogUnavailable(logger, ex, options.TaskHubName, FirstRetry.TotalSeconds);
            retrying = RetryAsync(stopping.Token);
        }
    }

    private async Task ProbeAsync(CancellationToken cancellationToken)
    {
        var queues = new QueueServiceClient(options.ConnectionString, new QueueClientOptions { Retry = { MaxRetries = 0, NetworkTimeout = ProbeTimeout } });
        try
        {
            await queues.GetPropertiesAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is RequestFailedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new TaskHubUnavailableException($"the storage account of task hub {options.TaskHubName} did not answer", ex);
        }
    }

    private async Task RetryAsync(CancellationToken stop)
    {
        var delay = FirstRetry;
        while (!stop.IsCancellationRequested)
        {
            Task<LocalTaskHub>? starting = null;
            try
            {
                await Task.Delay(delay, stop);

                // The provider's creation cannot be cancelled, and against an account that is not there its storage calls
                // retry for about 20 s: a stopping host does not wait for them (it let go of the attempt, below).
                starting = LocalTaskHub.StartAsync(options, invoker, loggers, stop);
                bindings.Hub = await starting.WaitAsync(stop);
                LogStarted(logger, options.TaskHubName);
                return;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                if (starting is not null)
                {
                    LogLetGo(logger, options.TaskHubName);
                    _ = LetGoAsync(starting);
                }

                return;
            }
            catch (TaskHubUnavailableException ex)
            {
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestRetry.Ticks));
                LogUnavailable(logger, ex, options.TaskHubName, delay.TotalSeconds);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await retrying;
        if (bindings.Hub is { } hub)
        {
            // In-flight orchestrator and activity invocations are abandoned and handed out again by the task hub.
            await hub.DisposeAsync();
        }

        stopping.Dispose();
    }

    /// <summary>An attempt to create the hub the host no longer waits for: it ends on its own, and a hub it started after all is stopped.</summary>
    private async Task LetGoAsync(Task<LocalTaskHub> starting)
    {
        try
        {
            await using var hub = await starting;
        }
        catch (Exception ex) when (ex is TaskHubUnavailableException or OperationCanceledException)
        {
            LogLetGoEnded(logger, ex, options.TaskHubName);
        }
    }

    [LoggerMessage(EventId = 1313, Level = LogLevel.Debug, Message = "The host stops while task hub {TaskHub} is still being created; that attempt is let go and ends on its own")]
    private static partial void LogLetGo(ILogger logger, string taskHub);

    [LoggerMessage(EventId = 1314, Level = LogLevel.Debug, Message = "The attempt to create task hub {TaskHub} that the stopping host let go of has ended")]
    private static partial void LogLetGoEnded(ILogger logger, Exception exception, string taskHub);

    [LoggerMessage(EventId = 1311, Level = LogLevel.Error, Message = "Task hub {TaskHub} could not be created in the storage account; durable functions wait, trying again in {DelaySeconds} s")]
    private static partial void LogUnavailable(ILogger logger, Exception exception, string taskHub, double delaySeconds);

    [LoggerMessage(EventId = 1312, Level = LogLevel.Information, Message = "Task hub {TaskHub} created after all; durable functions run")]
    private static partial void LogStarted(ILogger logger, string taskHub);
}
