using DecentCloud.Functions.Platform.Http;
using DecentCloud.Functions.Identity;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Accounts;

/// <summary><c>PUT /api/v1/accounts/{pubkey}/billing</c>, signed by that key: sets or replaces the billing settings.</summary>
public sealed class PutBilling(AccountStore store, TimeProvider time)
{
    [EndpointSummary("Set billing settings")]
    [EndpointDescription("Signed by the account's own key (403 for any other). Replaces all billing settings; 400 with field errors if they "
        + "are not valid, 409 if they changed concurrently (read and retry).")]
    [JsonBody(typeof(BillingSettings))]
    [Function(nameof(PutBilling))]
    [Signed]
    public async Task<Results<Ok<BillingView>, ValidationProblem, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "v1/accounts/{pubkey}/billing")] HttpRequest request, string pubkey, CancellationToken cancellationToken)
    {
        var billing = await JsonBodies.ReadAsync<BillingSettings>(request, cancellationToken);
        if (!SignedCaller.Of(request.HttpContext).Is(pubkey.Trim()))
        {
            return AccountProblems.NotYours();
        }

        var errors = BillingSettings.Validate(billing);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Billing settings not valid");
        }

        var existing = await store.FindAsync<BillingEntity>(pubkey, BillingEntity.BillingRowKey, cancellationToken);
        var row = existing ?? new BillingEntity { PartitionKey = AccountStore.PartitionKey(pubkey) };
        row.Apply(billing!.Normalized());
        row.UpdatedAt = time.GetUtcNow();

        // A new row is an insert (fails if one appeared meanwhile); an existing one is replaced with If-Match on the ETag read.
        var written = existing is null
            ? await store.TryAddAsync(row, cancellationToken)
            : await store.TryReplaceAsync(row, cancellationToken);
        return written ? TypedResults.Ok(row.ToView()) : AccountProblems.ChangedConcurrently();
    }
}
