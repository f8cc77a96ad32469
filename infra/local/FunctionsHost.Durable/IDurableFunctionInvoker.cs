namespace DecentCloud.FunctionsHost.Durable;

/// <summary>
/// Runs durable work items as function invocations in the worker: what the Functions host's Durable extension does with
/// an orchestration or activity trigger. An exception means the invocation itself did not happen or did not finish (the
/// worker died, the host is stopping): the work item is abandoned and the task hub hands it out again.
/// </summary>
public interface IDurableFunctionInvoker
{
    /// <summary>
    /// Invokes the orchestrator function <paramref name="name"/> with the base64 of a DurableTask <c>OrchestratorRequest</c>
    /// (its trigger value, as Durable Functions sends it) and answers the base64 <c>OrchestratorResponse</c> it returned.
    /// </summary>
    Task<string> RunOrchestratorAsync(string name, string instanceId, string encodedRequest, CancellationToken cancellationToken);

    /// <summary>Invokes the activity function <paramref name="name"/> with its JSON input; a failure of the function itself is an outcome, not an exception.</summary>
    Task<ActivityOutcome> RunActivityAsync(string name, string instanceId, string? input, CancellationToken cancellationToken);
}

/// <param name="Result">The activity's JSON result when it succeeded.</param>
/// <param name="Failure">Why it failed, when it did.</param>
public sealed record ActivityOutcome(string? Result, ActivityFailure? Failure)
{
    public static ActivityOutcome Succeeded(string? result) => new(result, null);

    public static ActivityOutcome Failed(ActivityFailure failure) => new(null, failure);
}

/// <summary>An activity's error as the orchestration sees it (<c>TaskFailureDetails</c>), with its inner error kept.</summary>
public sealed record ActivityFailure(string ErrorType, string Message, string? StackTrace, ActivityFailure? Inner = null, bool IsNonRetriable = false)
{
    public static ActivityFailure From(Exception exception) =>
        new(exception.GetType().FullName ?? exception.GetType().Name, exception.Message, exception.StackTrace, exception.InnerException is { } inner ? From(inner) : null);
}
