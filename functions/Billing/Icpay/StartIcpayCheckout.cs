using DecentCloud.Functions.Identity;
using DecentCloud.Functions.Marketplace.Accounts;
using DecentCloud.Functions.Marketplace.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Billing.Icpay;

/// <summary><c>POST /api/v1/contracts/{id}/checkout/icpay</c>, signed by the renter: what to pay through ICPay, for the ICPay SDK.</summary>
public sealed class StartIcpayCheckout(ContractRows rows, AccountStore accounts, IcpayCheckouts checkouts, IOptions<IcpayOptions> options)
{
    [EndpointSummary("Pay for a contract through ICPay")]
    [EndpointDescription("Signed by the contract's renter (403 for any other key). Answers what the web client passes to the ICPay SDK: amount (the "
        + "contract's price plus VAT, in the token's smallest units, as a string), tokenShortcode, and metadata (the contract id under 'contractId'; pass "
        + "it unchanged), with the net, VAT and gross in the contract currency's minor units. The VAT is decided as at Stripe Checkout, from the renter's "
        + "billing settings, which must be saved first (409 otherwise). 404 for no such contract; 409 if it is paid, costs nothing, has ended, or is "
        + "not in USD or EUR; 503 while ICPay is not configured.")]
    [Function(nameof(StartIcpayCheckout))]
    [Signed]
    public async Task<Results<Ok<IcpayCheckoutView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/contracts/{id}/checkout/icpay")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        // Without the webhook's secret no ICPay payment could ever be recorded: do not ask anyone to pay.
        if (!options.Value.Configured)
        {
            return IcpayProblems.NotConfigured();
        }

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

        if (IcpayTokens.ForCheckout(contract.Currency) is not { } token)
        {
            return IcpayProblems.CurrencyNotPayable(contract.PartitionKey, contract.Currency);
        }

        if (await accounts.FindAsync<BillingEntity>(contract.RenterKey, BillingEntity.BillingRowKey, cancellationToken) is not { } billing)
        {
            return IcpayProblems.BillingNeeded();
        }

        var quote = await checkouts.QuoteAsync(contract, billing, token, cancellationToken);
        return TypedResults.Ok(IcpayCheckoutView.Of(quote));
    }
}
