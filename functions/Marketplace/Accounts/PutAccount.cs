using DecentCloud.Functions.Platform.Http;
using DecentCloud.Functions.Identity;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Accounts;

/// <summary><c>PUT /api/v1/accounts/{pubkey}</c>, signed by that key: creates the account or changes its contact email.</summary>
public sealed class PutAccount(AccountStore store, TimeProvider time)
{
    [EndpointSummary("Create or update an account")]
    [EndpointDescription("Signed by the account's own key (403 for any other). 201 when created, 200 when updated; 400 with field errors "
        + "for a missing or invalid contact email, 409 if the account changed concurrently (read and retry). emailVerified cannot be set; "
        + "a new email resets it to false.")]
    [JsonBody(typeof(AccountSettings))]
    [Function(nameof(PutAccount))]
    [Signed]
    public async Task<Results<Created<AccountView>, Ok<AccountView>, ValidationProblem, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "v1/accounts/{pubkey}")] HttpRequest request, string pubkey, CancellationToken cancellationToken)
    {
        var account = await JsonBodies.ReadAsync<AccountSettings>(request, cancellationToken);
        if (!SignedCaller.Of(request.HttpContext).Is(pubkey.Trim()))
        {
            return AccountProblems.NotYours();
        }

        var errors = AccountSettings.Validate(account);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Account not valid");
        }

        var email = account!.ContactEmail!.Trim();
        var now = time.GetUtcNow();
        if (await store.FindAsync<AccountEntity>(pubkey, AccountEntity.AccountRowKey, cancellationToken) is not { } existing)
        {
            var created = new AccountEntity
            {
                PartitionKey = AccountStore.PartitionKey(pubkey),
                ContactEmail = email,
                EmailVerified = false,
                CreatedAt = now,
                UpdatedAt = now,
            };
            return await store.TryAddAsync(created, cancellationToken)
                ? TypedResults.Created($"/api/v1/accounts/{created.PartitionKey}", created.ToView())
                : AccountProblems.ChangedConcurrently();
        }

        if (!string.Equals(existing.ContactEmail, email, StringComparison.OrdinalIgnoreCase))
        {
            existing.EmailVerified = false;
        }

        existing.ContactEmail = email;
        existing.UpdatedAt = now;
        return await store.TryReplaceAsync(existing, cancellationToken)
            ? TypedResults.Ok(existing.ToView())
            : AccountProblems.ChangedConcurrently();
    }
}
