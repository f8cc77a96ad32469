using DecentCloud.Functions.Platform.Http;
using DecentCloud.Functions.Identity;
using DecentCloud.Functions.Marketplace.Providers;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Offerings;

/// <summary><c>POST /api/v1/providers/{pubkey}/offerings</c>, signed by that key: the provider adds an offering.</summary>
public sealed class CreateOffering(OfferingStore store, ProviderStore providers, TimeProvider time)
{
    [EndpointSummary("Create an offering")]
    [EndpointDescription("Signed by the provider's own key (403 for any other). 400 with field errors for an invalid offering, "
        + "404 if the key is not an onboarded provider.")]
    [JsonBody(typeof(OfferingSpec))]
    [Function(nameof(CreateOffering))]
    [Signed]
    public async Task<Results<Created<OfferingView>, ValidationProblem, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/providers/{pubkey}/offerings")] HttpRequest request, string pubkey, CancellationToken cancellationToken)
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

        var providerKey = ProviderStore.PartitionKey(pubkey);
        if (await providers.FindAsync(providerKey, cancellationToken) is null)
        {
            return OfferingProblems.ProviderNotOnboarded(providerKey);
        }

        var now = time.GetUtcNow();
        var entity = new OfferingEntity
        {
            PartitionKey = providerKey,
            RowKey = OfferingStore.NewId(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        entity.Apply(offering!.Normalized());
        if (!await store.TryAddAsync(entity, cancellationToken))
        {
            return OfferingProblems.IdTaken();
        }

        return TypedResults.Created($"/api/v1/providers/{providerKey}/offerings/{entity.RowKey}", entity.ToView());
    }
}
