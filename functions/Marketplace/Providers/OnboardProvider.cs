using DecentCloud.Functions.Platform.Http;
using DecentCloud.Functions.Identity;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Providers;

/// <summary><c>POST /api/v1/providers</c>, signed: the signer onboards itself as a provider and <c>provider-onboarded</c> is published.</summary>
public sealed class OnboardProvider(ProviderStore store, OnboardedEventOutbox outbox, TimeProvider time)
{
    [EndpointSummary("Onboard a provider")]
    [EndpointDescription("Signed by the provider's key, which becomes the provider's identity. 400 with field errors for an invalid profile, "
        + "409 if the key is already onboarded, 500 if the profile was saved but the provider-onboarded event could not be sent (send the request again).")]
    [JsonBody(typeof(ProviderProfile))]
    [Function(nameof(OnboardProvider))]
    [Signed]
    public async Task<Results<Created<ProviderView>, ValidationProblem, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/providers")] HttpRequest request, CancellationToken cancellationToken)
    {
        var profile = await JsonBodies.ReadAsync<ProviderProfile>(request, cancellationToken);
        var errors = ProviderProfile.Validate(profile);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Provider profile not valid");
        }

        var caller = SignedCaller.Of(request.HttpContext);
        var now = time.GetUtcNow();
        var provider = new ProviderEntity
        {
            PartitionKey = ProviderStore.PartitionKey(caller.PublicKeyHex),
            CreatedAt = now,
            UpdatedAt = now,
            OnboardedEventId = Guid.NewGuid(),
        };
        provider.Apply(profile!.Normalized());

        if (!await store.TryAddAsync(provider, cancellationToken))
        {
            // A retry after a failed publication finishes it; the profile stays as first written either way.
            if (await store.FindAsync(provider.PartitionKey, cancellationToken) is { } existing
                && !await outbox.PublishAsync(existing, cancellationToken))
            {
                return ProviderProblems.EventNotPublished();
            }

            return ProviderProblems.AlreadyOnboarded(provider.PartitionKey);
        }

        if (!await outbox.PublishAsync(provider, cancellationToken))
        {
            return ProviderProblems.EventNotPublished();
        }

        return TypedResults.Created($"/api/v1/providers/{provider.PartitionKey}", provider.ToView());
    }
}
