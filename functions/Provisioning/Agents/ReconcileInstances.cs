using DecentCloud.Functions.Identity.Delegations;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Provisioning.Agents;

/// <summary>
/// <c>POST /api/v1/providers/{pubkey}/reconcile</c>, an agent with <c>fetch_contracts</c>: the agent lists the instances
/// it runs; the answer keeps those of live contracts and names the others to terminate, <c>ended</c> (the contract ended
/// or its orchestration marked it for termination) or <c>unknown</c> (no contract of this provider has it).
/// </summary>
public sealed class ReconcileInstances(ProvisioningStore store)
{
    private const string Keep = "keep";
    private const string Ended = "ended";
    private const string Unknown = "unknown";

    [EndpointSummary("Reconcile an agent's instances")]
    [EndpointDescription("Agent with fetch_contracts. Body { instances: [{ externalId, contractId? }] } (at most 5000). 200 { keep: [{ externalId, contractId }], terminate: [{ externalId, contractId?, reason: ended|unknown }] }.")]
    [JsonBody(typeof(ReconcileRequest))]
    [Function(nameof(ReconcileInstances))]
    [Agent(AgentPermission.FetchContracts)]
    public async Task<Results<Ok<ReconcileAnswer>, ValidationProblem, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/providers/{pubkey}/reconcile")] HttpRequest request, string pubkey, CancellationToken cancellationToken)
    {
        var caller = AgentCaller.Of(request.HttpContext);

        var instances = (await JsonBodies.ReadAsync<ReconcileRequest>(request, cancellationToken))?.Instances;
        if (instances is null || instances.Count > ReconcileRequest.MaxInstances
            || instances.Any(i => i is null || string.IsNullOrWhiteSpace(i.ExternalId) || i.ExternalId.Length > InstanceValidation.MaxExternalIdLength || i.ContractId?.Length > 256))
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["instances"] = [$"A list of at most {ReconcileRequest.MaxInstances} instances, each with its externalId (1-{InstanceValidation.MaxExternalIdLength} characters)."] },
                title: "Reconcile request not valid");
        }

        var byExternalId = (await store.InstancesOfProviderAsync(caller.ProviderKeyHex, cancellationToken))
            .GroupBy(i => i.ExternalId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderByDescending(i => i.RecordedAt).First().ContractId, StringComparer.Ordinal);
        var verdicts = await Task.WhenAll(instances.Select(async running =>
        {
            var contractId = string.IsNullOrWhiteSpace(running!.ContractId) ? byExternalId.GetValueOrDefault(running.ExternalId!) : running.ContractId.Trim().ToLowerInvariant();
            return new Verdict(running.ExternalId!, contractId, contractId is null ? Unknown : await VerdictAsync(caller, contractId, cancellationToken));
        }));

        return TypedResults.Ok(new ReconcileAnswer(
            verdicts.Where(v => v.Outcome == Keep).Select(v => new KeptInstance(v.ExternalId, v.ContractId!)).ToList(),
            verdicts.Where(v => v.Outcome != Keep).Select(v => new InstanceToTerminate(v.ExternalId, v.ContractId, v.Outcome)).ToList()));
    }

    private sealed record Verdict(string ExternalId, string? ContractId, string Outcome);

    private async Task<string> VerdictAsync(AgentCaller caller, string contractId, CancellationToken cancellationToken)
    {
        if (await AgentScope.ContractAsync(store, caller, contractId, cancellationToken) is not { } contract)
        {
            return Unknown;
        }

        var live = contract.CurrentState is ContractState.Accepted or ContractState.Provisioning or ContractState.Provisioned or ContractState.Active or ContractState.Paused;
        return live && await store.TerminationMarkAsync(contract.PartitionKey, cancellationToken) is null ? Keep : Ended;
    }
}
