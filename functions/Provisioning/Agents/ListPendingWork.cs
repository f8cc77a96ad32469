using DecentCloud.Functions.Identity.Delegations;
using DecentCloud.Functions.Marketplace.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Provisioning.Agents;

/// <summary>
/// <c>GET /api/v1/providers/{pubkey}/provisioning/pending</c>, an agent with <c>fetch_contracts</c>: the paid contracts
/// waiting to be provisioned (no other agent's live lock on them) and the instances to terminate (docs/provisioning.md).
/// </summary>
public sealed class ListPendingWork(ProvisioningStore store, IOptions<ProvisioningOptions> options, TimeProvider time)
{
    private static readonly ContractState[] Waiting = [ContractState.Accepted, ContractState.Provisioning];

    [EndpointSummary("An agent's pending work")]
    [EndpointDescription("Agent with fetch_contracts. { provision: [Work], terminate: [Work], pollAfterSeconds }: paid contracts accepted or provisioning that no other agent holds a live lock on, "
        + "and contracts with an instance that ended (cancelled, expired, provisioningfailed) or that their orchestration marked for termination, not yet reported terminated.")]
    [Function(nameof(ListPendingWork))]
    [Agent(AgentPermission.FetchContracts)]
    public async Task<Results<Ok<PendingWork>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/providers/{pubkey}/provisioning/pending")] HttpRequest request, string pubkey, CancellationToken cancellationToken)
    {
        var caller = AgentCaller.Of(request.HttpContext);

        var now = time.GetUtcNow();
        var waiting = (await store.ContractsOfProviderAsync(caller.ProviderKeyHex, Waiting, cancellationToken)).Where(AgentScope.IsPaid);
        var provision = await Task.WhenAll(waiting.Select(contract => ToProvisionAsync(contract, caller.AgentKeyHex, now, cancellationToken)));
        var running = (await store.InstancesOfProviderAsync(caller.ProviderKeyHex, cancellationToken)).Where(i => !i.Terminated);
        var terminate = await Task.WhenAll(running.Select(indexed => ToTerminateAsync(indexed.ContractId, now, cancellationToken)));

        return TypedResults.Ok(new PendingWork(
            provision.OfType<Work>().OrderBy(w => w.PaidAt).ToList(),
            terminate.OfType<Work>().OrderBy(w => w.ContractId, StringComparer.Ordinal).ToList(),
            options.Value.PollSeconds));
    }

    private async Task<Work?> ToProvisionAsync(ContractEntity contract, string agentKey, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var lease = await store.LockAsync(contract.PartitionKey, cancellationToken);
        if (lease is not null && lease.HeldByAnotherThan(agentKey, now))
        {
            return null;
        }

        return Work.Of(contract, lease, await store.InstanceAsync(contract.PartitionKey, cancellationToken), now);
    }

    private async Task<Work?> ToTerminateAsync(string contractId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await store.ContractAsync(contractId, cancellationToken) is not { } contract
            || await store.InstanceAsync(contractId, cancellationToken) is not { } instance
            || await store.TerminatedAsync(contractId, cancellationToken) is not null)
        {
            return null;
        }

        var ended = contract.CurrentState is ContractState.Cancelled or ContractState.Expired or ContractState.ProvisioningFailed or ContractState.Rejected;
        if (!ended && await store.TerminationMarkAsync(contractId, cancellationToken) is null)
        {
            return null;
        }

        return Work.Of(contract, await store.LockAsync(contractId, cancellationToken), instance, now);
    }
}
