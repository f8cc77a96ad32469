using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Identity.Delegations;

/// <summary><c>DELETE /api/v1/providers/{pubkey}/agent-delegations/{agentKey}</c>, signed by the provider: the agent's key stops working at once.</summary>
public sealed class RevokeAgentDelegation(DelegationStore store, TimeProvider time)
{
    [EndpointSummary("Revoke an agent delegation")]
    [EndpointDescription("Signed by the provider. The delegation is kept, marked revoked, as the record of what the agent was allowed.")]
    [Function(nameof(RevokeAgentDelegation))]
    [Signed]
    public async Task<Results<Ok<DelegationView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/providers/{pubkey}/agent-delegations/{agentKey}")] HttpRequest request, string pubkey, string agentKey, CancellationToken cancellationToken)
    {
        var caller = SignedCaller.Of(request.HttpContext);
        if (!caller.Is(pubkey))
        {
            return DelegationProblems.NotTheProvider();
        }

        var existing = await store.FindAsync(agentKey.ToLowerInvariant(), cancellationToken);
        if (existing is null || existing.ProviderKey != caller.PublicKeyHex)
        {
            return DelegationProblems.NoSuchDelegation(agentKey);
        }

        if (existing.RevokedAt is null)
        {
            existing.RevokedAt = time.GetUtcNow();
            if (!await store.SaveAsync(existing, existing, cancellationToken))
            {
                return DelegationProblems.Changed();
            }
        }

        return TypedResults.Ok(existing.ToView());
    }
}
