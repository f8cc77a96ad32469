using DecentCloud.Functions.Operations;
using DecentCloud.Functions.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Ledger.Payouts;

/// <summary><c>POST /api/v1/admin/payouts</c>: records a payout an admin made outside the system (docs/payouts.md).</summary>
public sealed class RecordPayout(PayoutRecorder recorder, AdminAudit audit)
{
    [EndpointSummary("Record a payout")]
    [EndpointDescription("Admin. Body { providerPubkey, currency, amountMinor, method (icpay, bank-transfer), transferReference }: a payout made "
        + "outside the system (icpay.org dashboard, bank transfer). Settles that amount of the provider's released money, oldest release "
        + "first. 201 with the payout, the releases it settled and what is still owed; the same payout again (same reference, provider, "
        + "currency, amount and method) answers the first, 200. 400 for a field not valid; 409 for more than is owed (owedMinor says what "
        + "is) or for a reference that belongs to another payout. Recorded in the admin audit trail. Never edited: see docs/payouts.md.")]
    [JsonBody(typeof(PayoutRequestBody))]
    [Function(nameof(RecordPayout))]
    public async Task<Results<Created<PayoutReceipt>, Ok<PayoutReceipt>, ValidationProblem, ProblemHttpResult>> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "v1/admin/payouts")] HttpRequest request, CancellationToken cancellationToken)
    {
        var (payout, errors) = (await JsonBodies.ReadAsync<PayoutRequestBody>(request, cancellationToken) ?? new PayoutRequestBody(null, null, null, null, null)).Validate();
        if (payout is null)
        {
            await audit.RecordAsync(request.HttpContext, "payout.record", "-", $"refused: {string.Join(", ", errors.Keys)} not valid");
            return TypedResults.ValidationProblem(errors, title: "Payout not valid");
        }

        var target = $"{payout.ProviderPubkey}/{payout.Currency}/{payout.TransferReference}";
        var result = await recorder.RecordAsync(payout, FunctionCaller.Of(request.HttpContext).Name, cancellationToken);
        switch (result.Outcome)
        {
            case PayoutOutcome.MoreThanOwed:
                await audit.RecordAsync(request.HttpContext, "payout.record", target, $"refused: {payout.AmountMinor} {payout.Currency} asked, {result.OwedMinor} owed");
                return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "More than is owed",
                    detail: $"The provider is owed {result.OwedMinor} {payout.Currency} (minor units); a payout of {payout.AmountMinor} is more. Nothing was recorded.",
                    extensions: new Dictionary<string, object?> { ["owedMinor"] = result.OwedMinor, ["currency"] = payout.Currency, ["providerPubkey"] = payout.ProviderPubkey });
            case PayoutOutcome.ReferenceTaken:
                var taken = result.Taken!;
                await audit.RecordAsync(request.HttpContext, "payout.record", target, $"refused: reference belongs to {taken.AmountMinor} {taken.Currency} to {taken.ProviderPubkey}");
                return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Transfer reference already used",
                    detail: $"Transfer reference '{payout.TransferReference}' belongs to a payout of {taken.AmountMinor} {taken.Currency} ({taken.Method}) to provider {taken.ProviderPubkey}"
                        + (result.Payout is null ? ", not recorded yet: send exactly that payout again to record it." : ". A payout is never changed: see docs/payouts.md for corrections."),
                    extensions: new Dictionary<string, object?>
                    {
                        ["existing"] = new { taken.ProviderPubkey, taken.Currency, taken.AmountMinor, taken.Method, Recorded = result.Payout is not null },
                    });
            case PayoutOutcome.AlreadyRecorded:
                await audit.RecordAsync(request.HttpContext, "payout.record", target, "already recorded: answered the first");
                return TypedResults.Ok(Receipt(result));
            default:
                await audit.RecordAsync(request.HttpContext, "payout.record", target, $"recorded {payout.AmountMinor} {payout.Currency} ({payout.Method}), {result.OwedMinor} still owed");
                return TypedResults.Created($"/api/v1/admin/payouts?provider={payout.ProviderPubkey}", Receipt(result));
        }
    }

    private static PayoutReceipt Receipt(PayoutResult result) =>
        new(PayoutView.Of(result.Payout!), result.Settled.Select(ReleaseView.Of).ToList(), result.OwedMinor);
}
