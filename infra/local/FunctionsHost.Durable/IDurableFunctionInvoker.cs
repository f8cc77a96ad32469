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

    /// <summary>
    /// The failure of an activity that threw in the worker, read as the Durable extension reads it. The worker reports the
    /// exception's message (and perhaps its type). The .NET worker's durable extension makes that message the failure
    /// itself, as one line of protobuf JSON (<c>TaskFailureDetails</c>: <c>errorType</c>, <c>errorMessage</c>,
    /// <c>stackTrace</c>, <c>innerFailure</c>, <c>isNonRetriable</c>), so the orchestration sees the activity's own
    /// exception type and its inner exceptions, and a retry policy can tell errors apart by type
    /// (<c>TaskFailureDetails.IsCausedBy</c>). Another message is read as "{type}: {message}" on its first line (the .NET
    /// worker sends an exception's <c>ToString()</c>), typed <c>(unknown)</c> when it has no type, as the extension does.
    /// </summary>
    public static ActivityFailure FromWorker(string? type, string message, string? stackTrace)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.StartsWith('{'))
        {
            var line = message.IndexOf('\n', StringComparison.Ordinal) is var end and >= 0 ? message[..end].Trim() : message;
            try
            {
                return From(Google.Protobuf.JsonParser.Default.Parse<Microsoft.DurableTask.Protobuf.TaskFailureDetails>(line));
            }
            catch (Exception ex) when (ex is Google.Protobuf.InvalidJsonException or Google.Protobuf.InvalidProtocolBufferException)
            {
                // A message that only looks like JSON: read it as any other below.
            }
        }

        var firstLine = message.IndexOf('\n', StringComparison.Ordinal) is var lineEnd and >= 0 ? message[..lineEnd].TrimEnd() : message;
        if (type is not null)
        {
            return new ActivityFailure(type, firstLine, stackTrace);
        }

        var separator = firstLine.IndexOf(": ", StringComparison.Ordinal);
        return separator < 0
            ? new ActivityFailure("(unknown)", firstLine, stackTrace)
            : new ActivityFailure(firstLine[..separator].TrimEnd(), firstLine[(separator + 2)..], stackTrace);
    }

    private static ActivityFailure From(Microsoft.DurableTask.Protobuf.TaskFailureDetails details) =>
        new(details.ErrorType, details.ErrorMessage, details.StackTrace, details.InnerFailure is { } inner ? From(inner) : null, details.IsNonRetriable);
}
