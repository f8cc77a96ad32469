using DecentCloud.Functions.Identity;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Accounts;

/// <summary><c>GET /api/v1/accounts/{pubkey}</c>, signed by that key: the user's account.</summary>
public sealed class GetAccount(AccountStore store)
{
    [EndpointSummary("Read an account")]
    [EndpointDescription("Signed by the account's own key (403 for any other). 404 if the key has no account yet.")]
    [Function(nameof(GetAccount))]
    [Signed]
    public async Task<Results<Ok<AccountView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/accounts/{pubkey}")] HttpRequest request, string pubkey, CancellationToken cancellationToken)
    {
        if (!SignedCaller.Of(request.HttpContext).Is(pubkey.Trim()))
        {
            return AccountProblems.NotYours();
        }

        return await store.FindAsync<AccountEntity>(pubkey, AccountEntity.AccountRowKey, cancellationToken) is { } account
            ? TypedResults.Ok(account.ToView())
            : AccountProblems.NoAccount(AccountStore.PartitionKey(pubkey));
    }
}
