using DecentCloud.Functions.Platform.Http;
using DecentCloud.Functions.Identity;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Providers;

/// <summary><c>PUT /api/v1/providers/{pubkey}</c>, signed by that key: replaces the provider's profile.</summary>
public sealed class UpdateProvider(ProviderStore store, TimeProvider time)
{
    [EndpointSummary("Update a provider")]
    [EndpointDescription("Signed by the provider's own key (403 for any other). Replaces the whole profile; 400 with field errors if it is not valid, "
        + "404 if the key is not onboarded, 409 if the profile changed concurrently (read and retry).")]
    [JsonBody(typeof(ProviderProfile))]
    [Function(nameof(UpdateProvider))]
    [Signed]
    public async Task<Results<Ok<ProviderView>, ValidationProblem, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "v1/providers/{pubkey}")] HttpRequest request, string pubkey, CancellationToken cancellationToken)
    {
        var profile = await JsonBodies.ReadAsync<ProviderProfile>(request, cancellationToken);
        if (!SignedCaller.Of(request.HttpContext).Is(pubkey.Trim()))
        {
            return ProviderProblems.NotYours();
        }

        var errors = ProviderProfile.Validate(profile);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Provider profile not valid");
        }

        if (await store.FindAsync(pubkey, cancellationToken) is not { } provider)
        {
            return ProviderProblems.NotFound(ProviderStore.PartitionKey(pubkey));
        }

        provider.Apply(profile!.Normalized());
        provider.UpdatedAt = time.GetUtcNow();
        if (!await store.TryReplaceAsync(provider, cancellationToken))
        {
            return ProviderProblems.ChangedConcurrently();
        }

        return TypedResults.Ok(provider.ToView());
    }
}
