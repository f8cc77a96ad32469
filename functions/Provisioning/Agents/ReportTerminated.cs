using DecentCloud.Functions.Identity.Delegations;
using DecentCloud.Functions.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask.Client;

namespace DecentCloud.Functions.Provisioning.Agents;

/// <summary><c>POST /api/v1/providers/{pubkey}/contracts/{id}/terminated</c>, an agent with <c>provision</c>: the instance is gone; recorded once, then <c>Terminated</c> is raised.</summary>
public sealed class ReportTerminated(ProvisioningStore store, ContractLifecycleSignal signal, TimeProvider time)
{
    [EndpointSummary("Report an instance terminated")]
    [EndpointDescription("Agent with provision. Body { message? }. 202; a second report keeps the first. 404 for another provider's contract.")]
    [JsonBody(typeof(TerminatedReport))]
    [Function(nameof(ReportTerminated))]
    [Agent(AgentPermission.Provision)]
    public async Task<Results<Accepted<ReportAccepted>, ValidationProblem, ProblemHttpResult>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/providers/{pubkey}/contracts/{id}/terminated")] HttpRequest request,
        string pubkey,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        var caller = AgentCaller.Of(request.HttpContext);

        var message = (await JsonBodies.ReadAsync<TerminatedReport>(request, cancellationToken))?.Message;
        if (message?.Length > ProvisioningReport.MaxMessageLength)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["message"] = [$"message is at most {ProvisioningReport.MaxMessageLength} characters."] }, title: "Termination report not valid");
        }

        if (await AgentScope.ContractAsync(store, caller, id, cancellationToken) is not { } contract)
        {
            return ProvisioningProblems.UnknownContract(id);
        }

        var row = new TerminatedRow { PartitionKey = contract.PartitionKey, AgentKey = caller.AgentKeyHex, Message = message, At = time.GetUtcNow() };
        var kept = await store.RecordTerminatedAsync(row, contract.ProviderKey, cancellationToken);
        await signal.RaiseAsync(client, contract.PartitionKey, ContractLifecycleEvents.Terminated, new TerminatedSignal(kept.At), cancellationToken);
        return TypedResults.Accepted($"/api/v1/contracts/{contract.PartitionKey}", new ReportAccepted(contract.PartitionKey, "terminated"));
    }
}
