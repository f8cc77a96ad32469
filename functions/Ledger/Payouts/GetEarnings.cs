using DecentCloud.Functions.Identity;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Ledger.Payouts;

/// <summary><c>GET /api/v1/providers/{pubkey}/earnings</c>, signed by the provider: its own balance per currency, releases and payouts.</summary>
public sealed class GetEarnings(Earnings earnings)
{
    public const int MaxListed = 500;

    [EndpointSummary("A provider's earnings")]
    [EndpointDescription("Signed by the provider. Per currency: released to it, platform fees, paid out and still owed (minor units); its "
        + "releases (newest first, at most 500; with what payouts settled of each) and its payouts (newest first, at most 500).")]
    [Function(nameof(GetEarnings))]
    [Signed]
    public async Task<Results<Ok<EarningsView>, ProblemHttpResult>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/providers/{pubkey}/earnings")] HttpRequest request, string pubkey, CancellationToken cancellationToken)
    {
        var caller = SignedCaller.Of(request.HttpContext);
        if (!caller.Is(pubkey))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Not your earnings", detail: "Only the provider's own key reads its earnings.");
        }

        var provider = caller.PublicKeyHex;
        var statements = await earnings.StatementsAsync(provider, cancellationToken);
        var payouts = await earnings.PayoutsAsync(provider, cancellationToken);
        var releases = statements.SelectMany(s => s.Releases).OrderByDescending(r => r.Release.PeriodEnd).ThenBy(r => r.Release.ContractId, StringComparer.Ordinal).ToList();
        return TypedResults.Ok(new EarningsView(
            provider,
            statements.Select(s => BalanceView.Of(s.Balance)).ToList(),
            releases.Count,
            releases.Take(MaxListed).Select(ReleaseView.Of).ToList(),
            payouts.Take(MaxListed).Select(PayoutView.Of).ToList()));
    }
}
