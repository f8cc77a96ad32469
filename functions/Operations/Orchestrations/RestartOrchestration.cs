using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask.Client;

namespace DecentCloud.Functions.Operations.Orchestrations;

/// <summary>
/// <c>POST /api/v1/admin/orchestrations/{instanceId}/restart</c>: runs an ended instance again from the start, with its
/// input and under its own id (its activities are idempotent, so the steps it had done find their results).
/// </summary>
public sealed class RestartOrchestration(AdminAudit audit)
{
    [EndpointSummary("Restart an orchestration instance")]
    [EndpointDescription("Admin. Starts a completed, failed or terminated instance again from the beginning with its original input, under "
        + "the same instance id. 202 with the instance as it now is; 404 for an unknown id, 409 while it is still pending, running or suspended.")]
    [Function(nameof(RestartOrchestration))]
    public async Task<Results<Accepted<OrchestrationView>, ProblemHttpResult>> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "v1/admin/orchestrations/{instanceId}/restart")] HttpRequest request,
        string instanceId,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        var instance = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken);
        if (instance is null)
        {
            await audit.RecordAsync(request.HttpContext, "restart-orchestration", instanceId, "not found");
            return OrchestrationProblems.Unknown(instanceId);
        }

        if (!instance.IsCompleted)
        {
            await audit.RecordAsync(request.HttpContext, "restart-orchestration", instanceId, $"refused: {instance.RuntimeStatus}");
            return OrchestrationProblems.Conflict(instanceId, instance.RuntimeStatus, "only a completed, failed or terminated instance can be restarted");
        }

        await client.RestartAsync(instanceId, restartWithNewInstanceId: false, cancellationToken);
        await audit.RecordAsync(request.HttpContext, "restart-orchestration", instanceId, $"restarted (was {instance.RuntimeStatus})");
        var now = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken) ?? instance;
        return TypedResults.Accepted($"/api/v1/admin/orchestrations/{instanceId}", OrchestrationView.Of(now));
    }
}
