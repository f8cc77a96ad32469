using DecentCloud.Functions.Identity.Delegations;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask.Client;

namespace DecentCloud.Functions.Provisioning.Agents;

/// <summary>
/// <c>POST /api/v1/providers/{pubkey}/contracts/{id}/lock</c>, an agent with <c>provision</c>: takes or renews the
/// contract's lease, so two agents never provision one contract; then raises <c>Locked</c> on the contract's orchestration.
/// </summary>
public sealed class LockContract(ProvisioningStore store, ContractLifecycleSignal signal, TimeProvider time)
{
    [EndpointSummary("Lock a contract to provision it")]
    [EndpointDescription("Agent with provision. Body { leaseSeconds? } (default 600, 60-3600). 200 { contractId, agentPubkey, expiresAt }; the holder may renew. "
        + "409 lockHeld while another agent's lease is live, notPaid before the payment succeeded, state unless accepted or provisioning; 404 for another provider's contract.")]
    [JsonBody(typeof(LockRequest))]
    [Function(nameof(LockContract))]
    [Agent(AgentPermission.Provision)]
    public async Task<Results<Ok<LockView>, ValidationProblem, ProblemHttpResult>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/providers/{pubkey}/contracts/{id}/lock")] HttpRequest request,
        string pubkey,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        var caller = AgentCaller.Of(request.HttpContext);

        var leaseSeconds = (await JsonBodies.ReadAsync<LockRequest>(request, cancellationToken))?.LeaseSeconds ?? LockRequest.DefaultLeaseSeconds;
        if (leaseSeconds is < LockRequest.MinLeaseSeconds or > LockRequest.MaxLeaseSeconds)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["leaseSeconds"] = [$"A lease is {LockRequest.MinLeaseSeconds} to {LockRequest.MaxLeaseSeconds} seconds."] }, title: "Lock request not valid");
        }

        if (await AgentScope.ContractAsync(store, caller, id, cancellationToken) is not { } contract)
        {
            return ProvisioningProblems.UnknownContract(id);
        }

        if (!AgentScope.IsPaid(contract))
        {
            return ProvisioningProblems.NotPaid();
        }

        if (contract.CurrentState is not (ContractState.Accepted or ContractState.Provisioning))
        {
            return ProvisioningProblems.WrongState(contract.State, "accepted or provisioning");
        }

        var now = time.GetUtcNow();
        if (await store.TryLockAsync(contract.PartitionKey, caller.AgentKeyHex, now, now.AddSeconds(leaseSeconds), cancellationToken) is not { } lease)
        {
            return ProvisioningProblems.LockHeld();
        }

        await signal.RaiseAsync(client, contract.PartitionKey, ContractLifecycleEvents.Locked, new LockedSignal(lease.AgentKey, lease.ExpiresAt), cancellationToken);
        return TypedResults.Ok(new LockView(contract.PartitionKey, lease.AgentKey, lease.ExpiresAt));
    }
}
