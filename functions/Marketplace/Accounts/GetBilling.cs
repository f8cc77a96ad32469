using DecentCloud.Functions.Identity;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Accounts;

/// <summary><c>GET /api/v1/accounts/{pubkey}/billing</c>, signed by that key: the user's billing settings.</summary>
public sealed class GetBilling(AccountStore store)
{
    [EndpointSummary("Read billing settings")]
    [EndpointDescription("Signed by the account's own key (403 for any other). 404 if none are set.")]
    [Function(nameof(GetBilling))]
    [Signed]
    public async Task<Results<Ok<BillingView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/accounts/{pubkey}/billing")] HttpRequest request, string pubkey, CancellationToken cancellationToken)
    {
        if (!SignedCaller.Of(request.HttpContext).Is(pubkey.Trim()))
        {
            return AccountProblems.NotYours();
        }

        return await store.FindAsync<BillingEntity>(pubkey, BillingEntity.BillingRowKey, cancellationToken) is { } billing
            ? TypedResults.Ok(billing.ToView())
            : AccountProblems.NoBilling(AccountStore.PartitionKey(pubkey));
    }
}
