using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Identity.Delegations;

internal static class DelegationProblems
{
    public static ProblemHttpResult NotTheProvider() =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Not your provider account", detail: "Only the provider's own key manages its agent delegations.");

    public static ProblemHttpResult AgentTaken() =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Agent key already delegated", detail: "This agent key holds a delegation from another provider; an agent serves one provider.");

    public static ProblemHttpResult Changed() =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Changed concurrently", detail: "The delegation changed while this request was handled; send it again.");

    public static ProblemHttpResult NoSuchDelegation(string agentKey) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such delegation", detail: $"This provider has no delegation for agent key {agentKey}.");
}
