using DecentCloud.Functions.Platform.Http;
using DecentCloud.Functions.Identity;
using DecentCloud.Functions.Marketplace.Providers;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Offerings;

/// <summary><c>PUT /api/v1/providers/{pubkey}/offerings/{id}</c>, signed by that key: replaces the offering (hidden or not).</summary>
public sealed class UpdateOffering(OfferingStore store, TimeProvider time)
{
    [EndpointSummary("Update an offering")]
    [EndpointDescription("Signed by the provider's own key (403 for any other). Replaces the whole offering and keeps whether it is hidden; "
        + "400 with field errors if it is not valid, 404 if there is no such offering, 409 if it changed concurrently (read and retry).")]
    [JsonBody(typeof(OfferingSpec))]
    [Function(nameof(UpdateOffering))]
    [Signed]
    public async Task<Results<Ok<OfferingView>, ValidationProblem, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "v1/providers/{pubkey}/offerings/{id}")] HttpRequest request, string pubkey, string id, CancellationToken cancellationToken)
    {
        var offering = await JsonBodies.ReadAsync<OfferingSpec>(request, cancellationToken);
        if (!SignedCaller.Of(request.HttpContext).Is(pubkey.Trim()))
        {
            return OfferingProblems.NotYours();
        }

        var errors = OfferingSpec.Validate(offering);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Offering not valid");
        }

        if (await store.FindAsync(pubkey, id, cancellationToken) is not { } entity)
        {
            return OfferingProblems.NotFound(ProviderStore.PartitionKey(pubkey), id);
        }

        entity.Apply(offering!.Normalized());
        entity.UpdatedAt = time.GetUtcNow();
        if (!await store.TryReplaceAsync(entity, cancellationToken))
        {
            return OfferingProblems.ChangedConcurrently();
        }

        return TypedResults.Ok(entity.ToView());
    }
}
