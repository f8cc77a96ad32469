using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Identity.Delegations;

/// <summary><c>GET /api/v1/providers/{pubkey}/agent-delegations</c>, signed by the provider: its delegations, revoked ones included.</summary>
public sealed class ListAgentDelegations(DelegationStore store)
{
    [EndpointSummary("A provider's agent delegations")]
    [Function(nameof(ListAgentDelegations))]
    [Signed]
    public async Task<Results<Ok<IReadOnlyList<DelegationView>>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/providers/{pubkey}/agent-delegations")] HttpRequest request, string pubkey, CancellationToken cancellationToken)
    {
        var caller = SignedCaller.Of(request.HttpContext);
        if (!caller.Is(pubkey))
        {
            return DelegationProblems.NotTheProvider();
        }

        var rows = await store.ForProviderAsync(caller.PublicKeyHex, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<DelegationView>>(rows.OrderBy(r => r.CreatedAt).Select(r => r.ToView()).ToList());
    }
}
