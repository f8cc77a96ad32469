using DecentCloud.Functions.Billing.StripeIntegration;
using DecentCloud.Functions.Identity;
using DecentCloud.Functions.Marketplace.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Billing.Checkout;

/// <summary><c>POST /api/v1/contracts/{id}/checkout</c>, signed by the renter: where to pay for the contract.</summary>
public sealed partial class StartCheckout(ContractRows rows, CheckoutSessions sessions, ILogger<StartCheckout> logger)
{
    [EndpointSummary("Pay for a contract")]
    [EndpointDescription("Signed by the contract's renter (403 for any other key). Answers the Stripe Checkout Session to send the renter to "
        + "(url, sessionId, expiresAt). A second call answers the same session while it can be paid; a new one only after it expired or its "
        + "payment failed. 404 for no such contract; 409 if the contract is already paid, costs nothing, has ended, or a delayed payment is on its way; "
        + "502 if Stripe refused.")]
    [Function(nameof(StartCheckout))]
    [Signed]
    public async Task<Results<Ok<CheckoutView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/contracts/{id}/checkout")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        if (await rows.ContractAsync(id, cancellationToken) is not { } contract)
        {
            return ContractProblems.NotFound(id);
        }

        if (!SignedCaller.Of(request.HttpContext).Is(contract.RenterKey))
        {
            return ContractProblems.WrongParty("pay for", "renter");
        }

        if (BillingProblems.NotPayable(contract) is { } refused)
        {
            return refused;
        }

        try
        {
            var session = await sessions.OpenAsync(contract, cancellationToken);
            return session.Status == CheckoutStatus.Pending ? BillingProblems.PaymentPending(contract.PartitionKey) : TypedResults.Ok(session.ToView());
        }
        catch (StripeCallException ex)
        {
            LogStripeFailed(logger, ex, contract.PartitionKey);
            return BillingProblems.StripeFailed(ex);
        }
    }

    [LoggerMessage(EventId = 8003, Level = LogLevel.Error, Message = "Checkout for contract {ContractId} failed at Stripe")]
    private static partial void LogStripeFailed(ILogger logger, Exception exception, string contractId);
}
