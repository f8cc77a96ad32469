using DecentCloud.Functions.Identity;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Accounts;

/// <summary><c>DELETE /api/v1/accounts/{pubkey}/ssh-keys/{fingerprint}</c>, signed by that key: removes an SSH key.</summary>
public sealed class DeleteSshKey(AccountStore store)
{
    [EndpointSummary("Delete an SSH key")]
    [EndpointDescription("Signed by the account's own key (403 for any other). The fingerprint as ssh-keygen -lf prints it "
        + "(SHA256:...), URL-encoded; 404 if the account has no such key.")]
    [Function(nameof(DeleteSshKey))]
    [Signed]
    public async Task<Results<NoContent, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/accounts/{pubkey}/ssh-keys/{fingerprint}")] HttpRequest request, string pubkey, string fingerprint, CancellationToken cancellationToken)
    {
        if (!SignedCaller.Of(request.HttpContext).Is(pubkey.Trim()))
        {
            return AccountProblems.NotYours();
        }

        // The server leaves an encoded '/' (%2F) in the path, so the route value may still hold escapes. Unescaped, it
        // may hold anything (%2523 is '#'); only base64 can follow the prefix, and only that becomes a RowKey.
        var decoded = Uri.UnescapeDataString(fingerprint);
        if (!decoded.StartsWith("SHA256:", StringComparison.Ordinal) || decoded.Length == "SHA256:".Length
            || !decoded["SHA256:".Length..].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/'))
        {
            return AccountProblems.NoSshKey(decoded);
        }

        return await store.TryDeleteAsync(pubkey, SshKeyEntity.RowKeyOf(decoded), cancellationToken)
            ? TypedResults.NoContent()
            : AccountProblems.NoSshKey(decoded);
    }
}
