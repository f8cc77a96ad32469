using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace DecentCloud.Functions.Operations.Orchestrations;

/// <summary>An orchestration instance in a list.</summary>
public sealed record OrchestrationSummary(string InstanceId, string Name, string Status, DateTimeOffset CreatedAt, DateTimeOffset LastUpdatedAt)
{
    public static OrchestrationSummary Of(OrchestrationMetadata instance) =>
        new(instance.InstanceId, instance.Name, instance.RuntimeStatus.ToString(), instance.CreatedAt, instance.LastUpdatedAt);
}

/// <summary>One page of instances; <see cref="Continuation"/> fetches the next one (null on the last page).</summary>
public sealed record OrchestrationPage(IReadOnlyList<OrchestrationSummary> Instances, string? Continuation);

/// <summary>An orchestration instance with its input, output, custom status and failure (JSON as the orchestration wrote it).</summary>
public sealed record OrchestrationView(
    string InstanceId,
    string Name,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt,
    JsonNode? Input,
    JsonNode? Output,
    JsonNode? CustomStatus,
    OrchestrationFailure? Failure)
{
    public static OrchestrationView Of(OrchestrationMetadata instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var customStatus = Json(instance.SerializedCustomStatus);
        return new(instance.InstanceId, instance.Name, instance.RuntimeStatus.ToString(), instance.CreatedAt, instance.LastUpdatedAt,
            Json(instance.SerializedInput), Json(instance.SerializedOutput), customStatus, OrchestrationFailure.Of(instance, customStatus));
    }

    /// <summary>The JSON the orchestration stored; a terminated one's output is the reason as given, which need not be JSON.</summary>
    public static JsonNode? Json(string? serialized)
    {
        if (string.IsNullOrEmpty(serialized))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(serialized);
        }
        catch (JsonException)
        {
            return JsonValue.Create(serialized);
        }
    }
}

/// <summary>
/// Why an orchestration failed (<see cref="TaskFailureDetails"/>): the orchestrator's error and, inside it, the failed
/// activity's, and inside that the activity's own inner exceptions, each with its type and message.
/// </summary>
/// <remarks>
/// The Azure Storage task hub keeps only "{type}: {message}" of an orchestration's failure (as its output), not the
/// failure with its inner failures, and the client reads no history (docs/workflows.md). An orchestrator of this app
/// therefore records its failure itself, in its custom status under <c>Failure</c>, before it fails; this type reads
/// it from there, and falls back to the output's text for an orchestration that does not.
/// </remarks>
public sealed record OrchestrationFailure(string ErrorType, string Message, string? StackTrace, OrchestrationFailure? Inner)
{
    /// <summary>The most characters of one message kept in a custom status (which holds 16 KB in all).</summary>
    public const int MaximumRecordedMessage = 2000;

    private static readonly JsonSerializerOptions Reading = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// What failed the orchestration: the failed activity's error, which the orchestrator's wraps. The activity's own inner
    /// errors are the causes below it (a socket error naming an internal address, say), for admins.
    /// </summary>
    [JsonIgnore]
    public OrchestrationFailure Cause => Inner ?? this;

    public static OrchestrationFailure? Of(TaskFailureDetails? details) =>
        details is null ? null : new(details.ErrorType, details.ErrorMessage, details.StackTrace, Of(details.InnerFailure));

    /// <summary>
    /// What an orchestrator records of an activity that failed it, for its custom status: the orchestrator's error and the
    /// activity's chain, without stack traces (the worker's log has them), messages cut to <see cref="MaximumRecordedMessage"/>.
    /// </summary>
    public static OrchestrationFailure Recorded(TaskFailedException failed)
    {
        ArgumentNullException.ThrowIfNull(failed);
        return new(failed.GetType().FullName!, Cut(failed.Message), null, Chain(failed.FailureDetails));

        static OrchestrationFailure? Chain(TaskFailureDetails? details) =>
            details is null ? null : new(details.ErrorType, Cut(details.ErrorMessage), null, Chain(details.InnerFailure));

        static string Cut(string message) => message.Length <= MaximumRecordedMessage ? message : message[..MaximumRecordedMessage] + "…";
    }

    /// <summary>The failure of an instance: as the task hub gives it, else as its orchestrator recorded it, else its output's text.</summary>
    public static OrchestrationFailure? Of(OrchestrationMetadata instance, JsonNode? customStatus)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (Of(instance.FailureDetails) is { } given)
        {
            return given;
        }

        if (instance.RuntimeStatus != OrchestrationRuntimeStatus.Failed)
        {
            return null;
        }

        if (customStatus is JsonObject status
            && status.FirstOrDefault(p => string.Equals(p.Key, "failure", StringComparison.OrdinalIgnoreCase)).Value is JsonObject recorded)
        {
            return recorded.Deserialize<OrchestrationFailure>(Reading);
        }

        // The Azure Storage task hub stores "{type}: {message}" of the failure as the output.
        var text = instance.SerializedOutput ?? "";
        var separator = text.IndexOf(": ", StringComparison.Ordinal);
        return separator < 0
            ? new OrchestrationFailure("(unknown)", text, null, null)
            : new OrchestrationFailure(text[..separator], text[(separator + 2)..], null, null);
    }
}

internal static class OrchestrationProblems
{
    public static ProblemHttpResult Unknown(string instanceId) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown orchestration", detail: $"There is no orchestration instance '{instanceId}'.");

    public static ProblemHttpResult Conflict(string instanceId, OrchestrationRuntimeStatus status, string wanted) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Orchestration in the wrong state", detail: $"Orchestration '{instanceId}' is {status}; {wanted}.");
}
