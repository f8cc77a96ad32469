using DecentCloud.Functions.Identity;
using DecentCloud.Functions.Marketplace.Providers;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Offerings;

/// <summary><c>POST /api/v1/providers/{pubkey}/offerings/{id}/hide</c>, signed by that key: the offering leaves reads and search.</summary>
public sealed class HideOffering(OfferingStore store, TimeProvider time)
{
    [EndpointSummary("Hide an offering")]
    [EndpointDescription("Signed by the provider's own key (403 for any other). The offering is kept but no longer read or found; "
        + "404 if there is no such offering, 409 if it changed concurrently. Hiding a hidden offering changes nothing.")]
    [Function(nameof(HideOffering))]
    [Signed]
    public Task<Results<Ok<OfferingView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/providers/{pubkey}/offerings/{id}/hide")] HttpRequest request, string pubkey, string id, CancellationToken cancellationToken) =>
        OfferingVisibility.SetHiddenAsync(store, time, pubkey, id, hidden: true, request.HttpContext, cancellationToken);
}

/// <summary><c>POST /api/v1/providers/{pubkey}/offerings/{id}/show</c>, signed by that key: a hidden offering is shown again.</summary>
public sealed class ShowOffering(OfferingStore store, TimeProvider time)
{
    [EndpointSummary("Show an offering")]
    [EndpointDescription("Signed by the provider's own key (403 for any other). A hidden offering is read and found again; "
        + "404 if there is no such offering, 409 if it changed concurrently. Showing a shown offering changes nothing.")]
    [Function(nameof(ShowOffering))]
    [Signed]
    public Task<Results<Ok<OfferingView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/providers/{pubkey}/offerings/{id}/show")] HttpRequest request, string pubkey, string id, CancellationToken cancellationToken) =>
        OfferingVisibility.SetHiddenAsync(store, time, pubkey, id, hidden: false, request.HttpContext, cancellationToken);
}

internal static class OfferingVisibility
{
    public static async Task<Results<Ok<OfferingView>, ProblemHttpResult>> SetHiddenAsync(
        OfferingStore store, TimeProvider time, string pubkey, string id, bool hidden, HttpContext context, CancellationToken cancellationToken)
    {
        if (!SignedCaller.Of(context).Is(pubkey.Trim()))
        {
            return OfferingProblems.NotYours();
        }

        if (await store.FindAsync(pubkey, id, cancellationToken) is not { } entity)
        {
            return OfferingProblems.NotFound(ProviderStore.PartitionKey(pubkey), id);
        }

        if (entity.Hidden == hidden)
        {
            return TypedResults.Ok(entity.ToView());
        }

        entity.Hidden = hidden;
        entity.UpdatedAt = time.GetUtcNow();
        if (!await store.TryReplaceAsync(entity, cancellationToken))
        {
            return OfferingProblems.ChangedConcurrently();
        }

        return TypedResults.Ok(entity.ToView());
    }
}
