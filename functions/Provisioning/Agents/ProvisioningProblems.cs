using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Provisioning.Agents;

/// <summary>The refusals of the agent API; each names what failed in <c>check</c>.</summary>
internal static class ProvisioningProblems
{
    public static ProblemHttpResult UnknownContract(string id) =>
        Problem(StatusCodes.Status404NotFound, "Unknown contract", $"This provider has no contract {id}.", "contract");

    public static ProblemHttpResult NotPaid() =>
        Problem(StatusCodes.Status409Conflict, "Contract not paid", "The contract's payment has not succeeded; it is not provisioned before it is paid.", "notPaid");

    public static ProblemHttpResult WrongState(string state, string allowed) =>
        Problem(StatusCodes.Status409Conflict, "Not in this state", $"The contract is {state}; this needs it {allowed}.", "state");

    public static ProblemHttpResult LockHeld() =>
        Problem(StatusCodes.Status409Conflict, "Locked by another agent", "Another agent of this provider holds the contract's lock; it is its work until the lease ends.", "lockHeld");

    public static ProblemHttpResult NoLock() =>
        Problem(StatusCodes.Status409Conflict, "No lock", "This agent holds no live lock on the contract; take (or renew) the lock first.", "noLock");

    public static ProblemHttpResult NoInstance() =>
        Problem(StatusCodes.Status409Conflict, "No instance", "No instance of this contract has been reported provisioned.", "noInstance");

    private static ProblemHttpResult Problem(int status, string title, string detail, string check) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail, extensions: new Dictionary<string, object?> { ["check"] = check });
}
