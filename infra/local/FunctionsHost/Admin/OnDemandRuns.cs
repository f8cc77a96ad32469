using System.Diagnostics;
using System.Text.Json;
using DecentCloud.FunctionsHost.Configuration;
using DecentCloud.FunctionsHost.Http;
using DecentCloud.FunctionsHost.Queues;
using DecentCloud.FunctionsHost.Storage;
using DecentCloud.FunctionsHost.Timers;
using DecentCloud.FunctionsHost.Worker;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace DecentCloud.FunctionsHost.Admin;

/// <summary>
/// The Functions host's admin call that runs a non-HTTP function on demand (the portal's Test/Run):
/// <c>POST /admin/functions/{name}</c> with <c>{"input": "..."}</c> and the master key. It answers 202 once the run has
/// begun; the run goes on in the background and its outcome is logged as any invocation's. A timer function runs now,
/// not past due, with the schedule status as it stands (it takes no schedule lock and writes no status); a queue
/// function gets the input as the body of a message that was never on the queue. A disabled function runs too, as in
/// Functions. Runs still going when the host stops are asked to cancel and waited for.
/// </summary>
internal sealed partial class OnDemandRuns(
    FunctionsWorker worker,
    FunctionInvoker invoker,
    FunctionKeys keys,
    HostSettings settings,
    StorageAccounts storage,
    TimeProvider time,
    ILogger<OnDemandRuns> logger) : IHostedService, IDisposable
{
    public const string Route = "/admin/functions/{name}";

    private readonly CancellationTokenSource stopping = new();
    private readonly HashSet<Task> running = [];

    public void Map(WebApplication app) =>
        app.MapPost(Route, (string name, HttpRequest request, CancellationToken cancellationToken) => RequestAsync(name, request, cancellationToken))
            .WithDisplayName("Run a function on demand");

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        Task[] left;
        lock (running)
        {
            left = [.. running];
        }

        await Task.WhenAll(left).WaitAsync(cancellationToken);
    }

    public void Dispose() => stopping.Dispose();

    private async Task<Results<Accepted, ProblemHttpResult>> RequestAsync(string name, HttpRequest request, CancellationToken cancellationToken)
    {
        // In the Functions host's order: the key, then the body, then the function.
        var presented = FunctionKeys.PresentedKey(request);
        if (string.IsNullOrEmpty(presented) || keys.Match(name, AuthorizationLevel.Admin, presented) is null)
        {
            LogKeyRefused(logger, name, string.IsNullOrEmpty(presented) ? "no key" : "key not accepted");
            return TypedResults.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "A valid key is required",
                detail: $"Running a function needs the master key in the {FunctionKeys.HeaderName} header or the {FunctionKeys.QueryName} query parameter.");
        }

        var (input, bodyError) = await ReadInputAsync(request, cancellationToken);
        if (bodyError is not null)
        {
            return BadRequest("The body is not a run request", bodyError);
        }

        var function = worker.Functions.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));
        if (function is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such function", detail: $"The app has no function named {name}.");
        }

        if (function.Trigger.Is(HttpFunctions.TriggerType))
        {
            return BadRequest("An HTTP function is not run here", $"Call it at its own route ({HttpFunctions.Describe(function, settings)}).");
        }

        if (!function.Trigger.Is(TimerSchedule.TriggerType) && !function.Trigger.Is(QueueTriggerData.TriggerType))
        {
            return BadRequest("This function cannot be run on demand", $"{function.Name} has a {function.Trigger.Type} trigger; timer and queue functions can be run on demand.");
        }

        if (function.Trigger.Is(QueueTriggerData.TriggerType) && input is null)
        {
            return BadRequest("The body is not a run request", $"{function.Name} is a queue function: \"input\" is the message's body, and it is required.");
        }

        if (stopping.IsCancellationRequested)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The host is stopping");
        }

        Start(function, input);
        return TypedResults.Accepted((string?)null);
    }

    /// <summary>The body's <c>input</c> (null when it has none), or why the body is not <c>{"input": "..."}</c>.</summary>
    private static async Task<(string? Input, string? Error)> ReadInputAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        JsonDocument body;
        try
        {
            body = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException ex)
        {
            return (null, $"It must be JSON, {{\"input\": \"...\"}}: {ex.Message}");
        }

        using (body)
        {
            if (body.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, "It must be a JSON object, {\"input\": \"...\"}.");
            }

            foreach (var property in body.RootElement.EnumerateObject().Where(p => string.Equals(p.Name, "input", StringComparison.OrdinalIgnoreCase)))
            {
                return property.Value.ValueKind switch
                {
                    JsonValueKind.String => (property.Value.GetString(), null),
                    JsonValueKind.Null => (null, null),
                    _ => (null, "\"input\" must be a string (JSON for a queue function goes in as text)."),
                };
            }

            return (null, null);
        }
    }

    private static ProblemHttpResult BadRequest(string title, string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: title, detail: detail);

    private void Start(FunctionDescriptor function, string? input)
    {
        var invocationId = Guid.NewGuid().ToString();
        LogStarting(logger, function.Name, invocationId);

        // The run outlives the request: it continues the request's trace, but nothing else of the request's flow.
        var parent = Activity.Current?.Context;
        Task run;
        using (ExecutionContext.SuppressFlow())
        {
            run = Task.Run(() => RunAsync(function, input, invocationId, parent));
        }

        lock (running)
        {
            running.Add(run);
        }

        _ = run.ContinueWith(
            done =>
            {
                lock (running)
                {
                    running.Remove(done);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private async Task RunAsync(FunctionDescriptor function, string? input, string invocationId, ActivityContext? parent)
    {
        using var activity = HostActivity.Continue($"run {function.Name}", parent);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var request = await InvocationAsync(function, input, stopping.Token);
            request.InvocationId = invocationId;
            await invoker.InvokeAsync(function, request, stopping.Token);
            var elapsed = Stopwatch.GetElapsedTime(started);
            LogRan(logger, function.Name, invocationId, elapsed.TotalMilliseconds);
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            LogCutShort(logger, function.Name, invocationId);
        }
        catch (FunctionInvocationException ex)
        {
            // The worker has logged the function's exception whole, under this run's trace id.
            LogFailed(logger, function.Name, invocationId, ex.InnerException?.Message);
        }
        catch (Exception ex)
        {
            // Its outputs could not be written, the status blob could not be read, or the worker is gone.
            LogNotCompleted(logger, ex, function.Name, invocationId);
        }
    }

    private async Task<InvocationRequest> InvocationAsync(FunctionDescriptor function, string? input, CancellationToken cancellationToken)
    {
        if (function.Trigger.Is(QueueTriggerData.TriggerType))
        {
            return QueueTriggerData.Request(function.Trigger, QueueTriggerData.OnDemand(input ?? "", time.GetUtcNow()));
        }

        // As the Functions host's timer binding does for a run it did not schedule: the status as the monitor has it.
        ScheduleStatus? status = null;
        if (TimerSchedule.UsesMonitor(function.Trigger))
        {
            var blob = storage.Blobs(null, function.Name)
                .GetBlobContainerClient(TimerListener.ContainerName)
                .GetBlobClient(TimerListener.StatusBlobName(settings.HostId, function.Name));
            (status, _) = await TimerListener.ReadStatusAsync(blob, cancellationToken);
        }

        return TimerSchedule.Request(function.Trigger, status, isPastDue: false, TimerSchedule.UsesMonitor(function.Trigger));
    }

    [LoggerMessage(EventId = 1226, Level = LogLevel.Warning, Message = "Refused to run {Function} on demand: {Reason}")]
    private static partial void LogKeyRefused(ILogger logger, string function, string reason);

    [LoggerMessage(EventId = 1227, Level = LogLevel.Information, Message = "Running function {Function} on demand (invocation {InvocationId})")]
    private static partial void LogStarting(ILogger logger, string function, string invocationId);

    [LoggerMessage(EventId = 1228, Level = LogLevel.Information, Message = "Function {Function} ran on demand (invocation {InvocationId}) in {ElapsedMs:F1} ms")]
    private static partial void LogRan(ILogger logger, string function, string invocationId, double elapsedMs);

    [LoggerMessage(EventId = 1229, Level = LogLevel.Error, Message = "Function {Function} failed when run on demand (invocation {InvocationId}): {Error}")]
    private static partial void LogFailed(ILogger logger, string function, string invocationId, string? error);

    [LoggerMessage(EventId = 1230, Level = LogLevel.Error, Message = "Function {Function} ran on demand but could not complete (invocation {InvocationId})")]
    private static partial void LogNotCompleted(ILogger logger, Exception exception, string function, string invocationId);

    [LoggerMessage(EventId = 1231, Level = LogLevel.Information, Message = "The run on demand of {Function} (invocation {InvocationId}) was cut short: the host is stopping")]
    private static partial void LogCutShort(ILogger logger, string function, string invocationId);
}
