using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask.Client;

namespace DecentCloud.Functions.Operations.Orchestrations;

/// <summary><c>GET /api/v1/admin/orchestrations/{instanceId}</c>: one instance with its input, output, custom status and failure.</summary>
public sealed class GetOrchestration(AdminAudit audit)
{
    [EndpointSummary("Read an orchestration instance")]
    [EndpointDescription("Admin. The instance's status, input, output, custom status, created and last updated, and for a failed one its "
        + "failure: the orchestrator's error with the failed activity's inside it (type, message, stack trace). The history of events is not "
        + "shown (docs/workflows.md says why). 404 for an unknown id.")]
    [Function(nameof(GetOrchestration))]
    public async Task<Results<Ok<OrchestrationView>, ProblemHttpResult>> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "get", Route = "v1/admin/orchestrations/{instanceId}")] HttpRequest request,
        string instanceId,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        var instance = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken);
        await audit.RecordAsync(request.HttpContext, "get-orchestration", instanceId, instance?.RuntimeStatus.ToString() ?? "not found");
        return instance is null ? OrchestrationProblems.Unknown(instanceId) : TypedResults.Ok(OrchestrationView.Of(instance));
    }
}
