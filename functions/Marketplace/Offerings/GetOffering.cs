using DecentCloud.Functions.Marketplace.Providers;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Offerings;

/// <summary><c>GET /api/v1/providers/{pubkey}/offerings/{id}</c>: one visible offering.</summary>
public sealed class GetOffering(OfferingStore store)
{
    [EndpointSummary("Read an offering")]
    [EndpointDescription("Anonymous. The offering with this id of the provider with this public key (hex); 404 if there is none or it is hidden.")]
    [Function(nameof(GetOffering))]
    public async Task<Results<Ok<OfferingView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/providers/{pubkey}/offerings/{id}")] HttpRequest request, string pubkey, string id, CancellationToken cancellationToken) =>
        await store.FindAsync(pubkey, id, cancellationToken) is { Hidden: false } offering
            ? TypedResults.Ok(offering.ToView())
            : OfferingProblems.NotFound(ProviderStore.PartitionKey(pubkey), id);
}
