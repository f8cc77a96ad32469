using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Providers;

/// <summary><c>GET /api/v1/providers/{pubkey}</c>: a provider's public profile.</summary>
public sealed class GetProvider(ProviderStore store)
{
    [EndpointSummary("Read a provider")]
    [EndpointDescription("Anonymous. The profile of the provider with this public key (hex); 404 if none is onboarded.")]
    [Function(nameof(GetProvider))]
    public async Task<Results<Ok<ProviderView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/providers/{pubkey}")] HttpRequest request, string pubkey, CancellationToken cancellationToken) =>
        await store.FindAsync(pubkey, cancellationToken) is { } provider
            ? TypedResults.Ok(provider.ToView())
            : ProviderProblems.NotFound(ProviderStore.PartitionKey(pubkey));
}
