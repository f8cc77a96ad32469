using DecentCloud.Functions.Identity.Delegations;
using DecentCloud.Functions.Marketplace.Contracts;

namespace DecentCloud.Functions.Provisioning.Agents;

/// <summary>
/// What every agent route checks after the delegation (the agent gate has refused a path naming another provider, 403
/// <c>provider</c>): a contract in the path is one of the agent's provider's (404 otherwise, as for no contract at all: an agent learns
/// nothing of another provider's contracts).
/// </summary>
internal static class AgentScope
{
    public static async Task<ContractEntity?> ContractAsync(ProvisioningStore store, AgentCaller caller, string id, CancellationToken cancellationToken) =>
        await store.ContractAsync(id, cancellationToken) is { } contract
        && string.Equals(contract.ProviderKey, caller.ProviderKeyHex, StringComparison.OrdinalIgnoreCase)
            ? contract
            : null;

    public static bool IsPaid(ContractEntity contract) => new ContractPayment(contract.PriceMinor, contract.PaymentSucceeded).Settled;
}
