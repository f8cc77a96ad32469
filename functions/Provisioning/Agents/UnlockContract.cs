using DecentCloud.Functions.Identity.Delegations;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Provisioning.Agents;

/// <summary><c>DELETE /api/v1/providers/{pubkey}/contracts/{id}/lock</c>, an agent with <c>provision</c>: the holder gives its lease up.</summary>
public sealed class UnlockContract(ProvisioningStore store, TimeProvider time)
{
    [EndpointSummary("Release a contract's lock")]
    [EndpointDescription("Agent with provision. 204 when this agent held the lease (live or lapsed); 409 lockHeld when another agent holds it, noLock when none ever did; 404 for another provider's contract.")]
    [Function(nameof(UnlockContract))]
    [Agent(AgentPermission.Provision)]
    public async Task<Results<NoContent, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/providers/{pubkey}/contracts/{id}/lock")] HttpRequest request, string pubkey, string id, CancellationToken cancellationToken)
    {
        var caller = AgentCaller.Of(request.HttpContext);

        if (await AgentScope.ContractAsync(store, caller, id, cancellationToken) is not { } contract)
        {
            return ProvisioningProblems.UnknownContract(id);
        }

        var now = time.GetUtcNow();
        var lease = await store.LockAsync(contract.PartitionKey, cancellationToken);
        if (lease is null)
        {
            return ProvisioningProblems.NoLock();
        }

        if (lease.AgentKey != caller.AgentKeyHex)
        {
            return ProvisioningProblems.LockHeld();
        }

        if (lease.IsLive(now) && !await store.TryReleaseAsync(lease, now, cancellationToken))
        {
            return ProvisioningProblems.LockHeld();
        }

        return TypedResults.NoContent();
    }
}
