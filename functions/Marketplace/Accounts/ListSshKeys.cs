using DecentCloud.Functions.Identity;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Accounts;

/// <summary><c>GET /api/v1/accounts/{pubkey}/ssh-keys</c>, signed by that key: the account's SSH keys.</summary>
public sealed class ListSshKeys(AccountStore store)
{
    [EndpointSummary("List SSH keys")]
    [EndpointDescription("Signed by the account's own key (403 for any other). An empty list when there are none.")]
    [Function(nameof(ListSshKeys))]
    [Signed]
    public async Task<Results<Ok<List<SshKeyView>>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/accounts/{pubkey}/ssh-keys")] HttpRequest request, string pubkey, CancellationToken cancellationToken)
    {
        if (!SignedCaller.Of(request.HttpContext).Is(pubkey.Trim()))
        {
            return AccountProblems.NotYours();
        }

        var keys = await store.ListSshKeysAsync(pubkey, cancellationToken);
        return TypedResults.Ok(keys.Select(k => k.ToView()).ToList());
    }
}
