using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Contracts;

internal static class ContractProblems
{
    public static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "Unknown contract",
            detail: $"There is no contract {id}.");

    public static ProblemHttpResult OfferingNotFound(string providerKey, string offeringId) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "Unknown offering",
            detail: $"Provider {providerKey} has no visible offering {offeringId}.");

    public static ProblemHttpResult NotAParty() =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status403Forbidden,
            title: "Not your contract",
            detail: "Only the contract's renter or provider may read it; sign with one of their keys.");

    public static ProblemHttpResult WrongParty(string action, string party) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status403Forbidden,
            title: "Not allowed for this key",
            detail: $"Only the contract's {party} may {action} it; sign with the {party}'s key.");

    public static ProblemHttpResult MoveRefused(string reason) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "Move not allowed",
            detail: reason);

    public static ProblemHttpResult ChangedConcurrently(ContractState current) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "Changed concurrently",
            detail: $"The contract changed while this request was processed; it is now {current.Name()}. Read it again and retry if the move still applies.");

    public static ProblemHttpResult IdTaken() =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "Contract id taken",
            detail: "A new contract id collided with an existing one; send the request again.");

    public static ProblemHttpResult PriceRefused(string reason) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status400BadRequest,
            title: "Term not allowed",
            detail: reason);
}
