using DecentCloud.Functions.Billing.StripeIntegration;
using DecentCloud.Functions.Marketplace.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Billing;

internal static class BillingProblems
{
    /// <summary>Why the contract cannot be paid for now, or null when it can.</summary>
    public static ProblemHttpResult? NotPayable(ContractEntity contract)
    {
        if (contract.PaymentSucceeded)
        {
            return Conflict("Already paid", $"Contract {contract.PartitionKey} is paid.");
        }

        if (contract.PriceMinor == 0)
        {
            return Conflict("Nothing to pay", $"Contract {contract.PartitionKey} costs nothing.");
        }

        return ContractStateMachine.IsTerminal(contract.CurrentState)
            ? Conflict("Contract ended", $"Contract {contract.PartitionKey} is {contract.State}: it can no longer be paid for.")
            : null;
    }

    public static ProblemHttpResult StripeFailed(StripeCallException ex) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status502BadGateway,
            title: "Payment provider failed",
            // Stripe's message for a refused request says what was wrong; its text carries no secret.
            detail: $"Stripe did not open a checkout session (HTTP {ex.Status}). Try again in a moment.");

    public static ProblemHttpResult PaymentPending(string contractId) =>
        Conflict("Payment on its way", $"A delayed payment for contract {contractId} is being processed; wait for it to succeed or fail.");

    public static ProblemHttpResult NoInvoice(string contractId) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "No invoice yet",
            detail: $"Contract {contractId} has no invoice: it is issued when the payment succeeds, within moments.");

    public static ProblemHttpResult NoCreditNote(string contractId, string number) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "No such credit note",
            detail: $"Contract {contractId} has no issued credit note {number}; GET its invoice metadata for the list.");

    public static ProblemHttpResult NotAParty() =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status403Forbidden,
            title: "Not your invoice",
            detail: "Only the contract's renter or provider (signed) or an admin (master key) may read its invoice.");

    private static ProblemHttpResult Conflict(string title, string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: title, detail: detail);
}
