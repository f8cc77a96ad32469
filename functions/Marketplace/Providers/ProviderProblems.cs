using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Providers;

internal static class ProviderProblems
{
    public static ProblemHttpResult NotFound(string publicKeyHex) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "Unknown provider",
            detail: $"No provider is onboarded with key {publicKeyHex}.");

    public static ProblemHttpResult AlreadyOnboarded(string publicKeyHex) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "Provider already onboarded",
            detail: $"Key {publicKeyHex} is already onboarded; change the profile with PUT /api/v1/providers/{publicKeyHex}.");

    public static ProblemHttpResult NotYours() =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status403Forbidden,
            title: "Not your provider profile",
            detail: "Only the provider's own key may change its profile; sign with that key.");

    public static ProblemHttpResult ChangedConcurrently() =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "Changed concurrently",
            detail: "The profile changed while this request was processed; read it again and retry.");

    public static ProblemHttpResult EventNotPublished() =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Onboarding not announced",
            detail: "The profile was saved but the provider-onboarded event could not be sent. Send the same onboarding request again (newly signed) to finish it.");
}
