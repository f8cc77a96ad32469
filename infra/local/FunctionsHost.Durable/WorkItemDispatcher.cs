using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using P = Microsoft.DurableTask.Protobuf;

namespace DecentCloud.FunctionsHost.Durable;

/// <summary>
/// Takes the task hub's work items from the sidecar's <c>GetWorkItems</c> stream and runs each as a function invocation,
/// as the Durable extension runs out-of-process orchestrators and activities: an orchestrator gets the base64 of its
/// <c>OrchestratorRequest</c> and answers the base64 of an <c>OrchestratorResponse</c> (the actions it decided); an
/// activity gets its input and answers its result or its failure. A work item whose invocation did not finish is
/// abandoned, so the hub hands it out again (orchestrators replay; activities run at least once).
/// </summary>
internal sealed partial class WorkItemDispatcher(GrpcChannel channel, IDurableFunctionInvoker invoker, LocalTaskHubOptions options, ILogger<WorkItemDispatcher> logger) : IDisposable
{
    private static readonly TimeSpan LongestReconnectDelay = TimeSpan.FromSeconds(5);

    private readonly P.TaskHubSidecarService.TaskHubSidecarServiceClient sidecar = new(channel);
    private readonly SemaphoreSlim orchestrators = new(options.MaxConcurrentOrchestratorFunctions);
    private readonly SemaphoreSlim activities = new(options.MaxConcurrentActivityFunctions);

    public async Task RunAsync(CancellationToken stopping)
    {
        await Task.Yield();
        var running = new HashSet<Task>();
        var delay = TimeSpan.FromMilliseconds(100);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                using var call = sidecar.GetWorkItems(
                    new P.GetWorkItemsRequest
                    {
                        MaxConcurrentOrchestrationWorkItems = options.MaxConcurrentOrchestratorFunctions,
                        MaxConcurrentActivityWorkItems = options.MaxConcurrentActivityFunctions,
                    },
                    cancellationToken: stopping);
                await foreach (var item in call.ResponseStream.ReadAllAsync(stopping))
                {
                    delay = TimeSpan.FromMilliseconds(100);
                    running.Add(DispatchAsync(item, stopping));
                    running.RemoveWhere(task => task.IsCompleted);
                }
            }
            catch (Exception ex) when (stopping.IsCancellationRequested && ex is OperationCanceledException or RpcException)
            {
                break;
            }
            catch (RpcException ex)
            {
                LogStreamLost(logger, ex, delay.TotalMilliseconds);
                await Task.Delay(delay, CancellationToken.None);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestReconnectDelay.Ticks));
            }
        }

        await Task.WhenAll(running);
    }

    private async Task DispatchAsync(P.WorkItem item, CancellationToken stopping)
    {
        // Off the stream's reader: one slow function never holds up the next work item.
        await Task.Yield();
        switch (item.RequestCase)
        {
            case P.WorkItem.RequestOneofCase.OrchestratorRequest:
                await RunOrchestratorAsync(item.OrchestratorRequest, item.CompletionToken, stopping);
                break;
            case P.WorkItem.RequestOneofCase.ActivityRequest:
                await RunActivityAsync(item.ActivityRequest, item.CompletionToken, stopping);
                break;
            case P.WorkItem.RequestOneofCase.HealthPing:
                break;
            default:
                LogUnsupported(logger, item.RequestCase.ToString());
                break;
        }
    }

    private async Task RunOrchestratorAsync(P.OrchestratorRequest request, string completionToken, CancellationToken stopping)
    {
        var name = request.PastEvents.Concat(request.NewEvents).FirstOrDefault(e => e.ExecutionStarted is not null)?.ExecutionStarted.Name ?? "";
        await orchestrators.WaitAsync(CancellationToken.None);
        try
        {
            LogRunningOrchestrator(logger, name, request.InstanceId);
            var encoded = await invoker.RunOrchestratorAsync(name, request.InstanceId, Convert.ToBase64String(request.ToByteArray()), stopping);
            var response = P.OrchestratorResponse.Parser.ParseFrom(Convert.FromBase64String(encoded));
            response.CompletionToken = completionToken;
            if (string.IsNullOrEmpty(response.InstanceId))
            {
                response.InstanceId = request.InstanceId;
            }

            await sidecar.CompleteOrchestratorTaskAsync(response, cancellationToken: CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogOrchestratorAbandoned(logger, ex, name, request.InstanceId);
            await AbandonAsync(() => sidecar.AbandonTaskOrchestratorWorkItemAsync(new P.AbandonOrchestrationTaskRequest { CompletionToken = completionToken }).ResponseAsync);
        }
        finally
        {
            orchestrators.Release();
        }
    }

    private async Task RunActivityAsync(P.ActivityRequest request, string completionToken, CancellationToken stopping)
    {
        var instanceId = request.OrchestrationInstance?.InstanceId ?? "";
        await activities.WaitAsync(CancellationToken.None);
        try
        {
            LogRunningActivity(logger, request.Name, instanceId);
            var outcome = ActivityInput.TryUnwrap(request.Input, out var input, out var unreadable)
                ? await invoker.RunActivityAsync(request.Name, instanceId, input, stopping)
                : ActivityOutcome.Failed(new ActivityFailure(typeof(ArgumentException).FullName!, unreadable!, null, IsNonRetriable: true));
            var response = new P.ActivityResponse { InstanceId = instanceId, TaskId = request.TaskId, CompletionToken = completionToken };
            if (outcome.Failure is { } failure)
            {
                response.FailureDetails = Details(failure);
                LogActivityFailed(logger, request.Name, instanceId, failure.ErrorType, failure.Message);
            }
            else if (outcome.Result is { } result)
            {
                response.Result = result;
            }

            await sidecar.CompleteActivityTaskAsync(response, cancellationToken: CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogActivityAbandoned(logger, ex, request.Name, instanceId);
            await AbandonAsync(() => sidecar.AbandonTaskActivityWorkItemAsync(new P.AbandonActivityTaskRequest { CompletionToken = completionToken }).ResponseAsync);
        }
        finally
        {
            activities.Release();
        }
    }

    public void Dispose()
    {
        orchestrators.Dispose();
        activities.Dispose();
    }

    private async Task AbandonAsync(Func<Task> abandon)
    {
        try
        {
            await abandon();
        }
        catch (RpcException ex)
        {
            // The work item's lock runs out by itself (WorkItemVisibilityTimeout) and it is handed out again.
            LogAbandonFailed(logger, ex);
        }
    }

    private static P.TaskFailureDetails Details(ActivityFailure failure)
    {
        var details = new P.TaskFailureDetails { ErrorType = failure.ErrorType, ErrorMessage = failure.Message, IsNonRetriable = failure.IsNonRetriable };
        if (failure.StackTrace is { } stack)
        {
            details.StackTrace = stack;
        }

        if (failure.Inner is { } inner)
        {
            details.InnerFailure = Details(inner);
        }

        return details;
    }

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "The task hub's work-item stream was lost; connecting again in {DelayMs} ms")]
    private static partial void LogStreamLost(ILogger logger, Exception exception, double delayMs);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Warning, Message = "Orchestrator {Name} of instance {InstanceId} did not finish its invocation; its work item is abandoned and replayed later")]
    private static partial void LogOrchestratorAbandoned(ILogger logger, Exception exception, string name, string instanceId);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Warning, Message = "Activity {Name} of instance {InstanceId} did not finish its invocation; its work item is abandoned and runs again later")]
    private static partial void LogActivityAbandoned(ILogger logger, Exception exception, string name, string instanceId);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Information, Message = "Activity {Name} of instance {InstanceId} failed: {ErrorType}: {ErrorMessage}")]
    private static partial void LogActivityFailed(ILogger logger, string name, string instanceId, string errorType, string errorMessage);

    [LoggerMessage(EventId = 1305, Level = LogLevel.Warning, Message = "A work item could not be abandoned; it is handed out again when its lock runs out")]
    private static partial void LogAbandonFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1307, Level = LogLevel.Debug, Message = "Running orchestrator {Name} of instance {InstanceId}")]
    private static partial void LogRunningOrchestrator(ILogger logger, string name, string instanceId);

    [LoggerMessage(EventId = 1308, Level = LogLevel.Debug, Message = "Running activity {Name} of instance {InstanceId}")]
    private static partial void LogRunningActivity(ILogger logger, string name, string instanceId);

    [LoggerMessage(EventId = 1306, Level = LogLevel.Warning, Message = "The task hub sent a {Kind} work item, which this host does not run (entities are not supported)")]
    private static partial void LogUnsupported(ILogger logger, string kind);
}
