using DecentCloud.Functions.Platform.Http;
using DecentCloud.Functions.Identity;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Accounts;

/// <summary><c>POST /api/v1/accounts/{pubkey}/ssh-keys</c>, signed by that key: adds an SSH public key.</summary>
public sealed class AddSshKey(AccountStore store, TimeProvider time)
{
    [EndpointSummary("Add an SSH key")]
    [EndpointDescription("Signed by the account's own key (403 for any other). The body's publicKey is one OpenSSH public key line "
        + "(ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp256); 400 if it is not one, 409 if the account already has it.")]
    [JsonBody(typeof(SshKeyRequest))]
    [Function(nameof(AddSshKey))]
    [Signed]
    public async Task<Results<Created<SshKeyView>, ValidationProblem, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/accounts/{pubkey}/ssh-keys")] HttpRequest request, string pubkey, CancellationToken cancellationToken)
    {
        var key = await JsonBodies.ReadAsync<SshKeyRequest>(request, cancellationToken);
        if (!SignedCaller.Of(request.HttpContext).Is(pubkey.Trim()))
        {
            return AccountProblems.NotYours();
        }

        if (SshPublicKey.TryParse(key?.PublicKey, out var error) is not { } parsed)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["publicKey"] = [error] }, title: "SSH key not valid");
        }

        var row = new SshKeyEntity
        {
            PartitionKey = AccountStore.PartitionKey(pubkey),
            RowKey = SshKeyEntity.RowKeyOf(parsed.Fingerprint),
            Fingerprint = parsed.Fingerprint,
            KeyType = parsed.KeyType,
            PublicKey = parsed.Line,
            Comment = parsed.Comment,
            CreatedAt = time.GetUtcNow(),
        };
        if (!await store.TryAddAsync(row, cancellationToken))
        {
            return AccountProblems.SshKeyExists(parsed.Fingerprint);
        }

        return TypedResults.Created($"/api/v1/accounts/{row.PartitionKey}/ssh-keys/{Uri.EscapeDataString(parsed.Fingerprint)}", row.ToView());
    }
}
