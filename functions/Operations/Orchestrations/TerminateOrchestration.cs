using DecentCloud.Functions.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask.Client;

namespace DecentCloud.Functions.Operations.Orchestrations;

/// <summary>The body of <c>POST /api/v1/admin/orchestrations/{instanceId}/terminate</c>.</summary>
public sealed record TerminateRequest(string? Reason);

/// <summary><c>POST /api/v1/admin/orchestrations/{instanceId}/terminate</c>: stops a running instance for good, with a reason.</summary>
public sealed class TerminateOrchestration(AdminAudit audit)
{
    public const int MaximumReasonLength = 1000;

    [EndpointSummary("Terminate an orchestration instance")]
    [EndpointDescription("Admin. Body { reason } (1-1000 characters). Terminates a pending, running or suspended instance; the reason becomes "
        + "its output. An activity already running finishes, but nothing after it runs. 202 (the task hub terminates it shortly); 400 without "
        + "a reason, 404 for an unknown id, 409 for an instance that has ended.")]
    [JsonBody(typeof(TerminateRequest))]
    [Function(nameof(TerminateOrchestration))]
    public async Task<Results<Accepted<OrchestrationView>, ValidationProblem, ProblemHttpResult>> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "v1/admin/orchestrations/{instanceId}/terminate")] HttpRequest request,
        string instanceId,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        var reason = (await JsonBodies.ReadAsync<TerminateRequest>(request, cancellationToken))?.Reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > MaximumReasonLength)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["reason"] = [$"A reason of 1 to {MaximumReasonLength} characters is required."] },
                title: "Terminate request not valid");
        }

        var instance = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken);
        if (instance is null)
        {
            await audit.RecordAsync(request.HttpContext, "terminate-orchestration", instanceId, "not found");
            return OrchestrationProblems.Unknown(instanceId);
        }

        if (instance.IsCompleted)
        {
            await audit.RecordAsync(request.HttpContext, "terminate-orchestration", instanceId, $"refused: {instance.RuntimeStatus}");
            return OrchestrationProblems.Conflict(instanceId, instance.RuntimeStatus, "only a pending, running or suspended instance can be terminated");
        }

        await client.TerminateInstanceAsync(instanceId, reason, cancellationToken);
        await audit.RecordAsync(request.HttpContext, "terminate-orchestration", instanceId, $"terminated: {reason}");
        return TypedResults.Accepted($"/api/v1/admin/orchestrations/{instanceId}", OrchestrationView.Of(instance));
    }
}
