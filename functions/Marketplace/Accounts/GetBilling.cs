using DecentCloud.Functions.Identity;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Accounts;

/// <summary><c>GET /api/v1/accounts/{pubkey}/billing</c>, signed by that key: the user's billing settings.</summary>
public sealed class GetBilling(AccountStore store)
{
    [EndpointSummary("Read billing settings")]
    [EndpointDescription("Signed by the account's own key (403 for any other). 404 if none are set.")]
    public async Task<Results<Ok<BillingView>, ProblemHttpResult>> Run(string pubkey, HttpContext context, CancellationToken cancellationToken)
    {
        if (!SignedCaller.Of(context).Is(pubkey.Trim()))
        {
            return AccountProblems.NotYours();
        }

        return await store.FindAsync<BillingEntity>(pubkey, BillingEntity.BillingRowKey, cancellationToken) is { } billing
            ? TypedResults.Ok(billing.ToView())
            : AccountProblems.NoBilling(AccountStore.PartitionKey(pubkey));
    }
}
