using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Offerings;

internal static class OfferingProblems
{
    public static ProblemHttpResult NotFound(string publicKeyHex, string id) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "Unknown offering",
            detail: $"Provider {publicKeyHex} has no visible offering {id}.");

    public static ProblemHttpResult ProviderNotOnboarded(string publicKeyHex) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "Unknown provider",
            detail: $"No provider is onboarded with key {publicKeyHex}; onboard with POST /api/v1/providers before creating offerings.");

    public static ProblemHttpResult NotYours() =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status403Forbidden,
            title: "Not your offering",
            detail: "Only the provider's own key may create or change its offerings; sign with that key.");

    public static ProblemHttpResult ChangedConcurrently() =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "Changed concurrently",
            detail: "The offering changed while this request was processed; read it again and retry.");

    public static ProblemHttpResult IdTaken() =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "Offering id taken",
            detail: "A new offering id collided with an existing one; send the request again.");
}
