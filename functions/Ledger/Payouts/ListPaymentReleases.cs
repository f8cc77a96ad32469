using DecentCloud.Functions.Operations;
using DecentCloud.Functions.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Ledger.Payouts;

/// <summary><c>GET /api/v1/admin/payment-releases</c>: what is owed per provider and currency, with the releases behind it.</summary>
public sealed class ListPaymentReleases(Earnings earnings, AdminAudit audit)
{
    public const int MaxReleasesListed = 500;

    [EndpointSummary("What is owed to providers")]
    [EndpointDescription("Admin. Per provider and currency with money owed: released, fees, net, paid out and owed (minor units), and the "
        + "releases not yet settled by payouts, oldest first (at most 500 each; the counts are complete). `?provider={pubkey}` shows that "
        + "provider's every currency, owed or not. The first step of a payout (docs/payouts.md).")]
    [Query("provider")]
    [Function(nameof(ListPaymentReleases))]
    public async Task<Results<Ok<List<OwedView>>, ValidationProblem>> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "get", Route = "v1/admin/payment-releases")] HttpRequest request, CancellationToken cancellationToken)
    {
        var provider = QueryValues.Text(request, "provider")?.Trim().ToLowerInvariant();
        if (provider is not null && (provider.Length != 64 || !provider.All(char.IsAsciiHexDigit)))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["provider"] = ["provider must be a provider's public key: 64 hex characters."] }, title: "Bad query");
        }

        var owed = (await earnings.StatementsAsync(provider, cancellationToken))
            .Where(s => provider is not null || s.Balance.OwedMinor != 0)
            .Select(s =>
            {
                var outstanding = s.Releases.Where(r => r.OutstandingMinor > 0).ToList();
                return new OwedView(BalanceView.Of(s.Balance), s.Releases.Count, outstanding.Count, outstanding.Take(MaxReleasesListed).Select(ReleaseView.Of).ToList());
            })
            .OrderByDescending(o => o.Balance.OwedMinor)
            .ToList();
        await audit.RecordAsync(request.HttpContext, "payment-releases.list", provider ?? "all", $"{owed.Count} balances, {owed.Sum(o => o.Balance.OwedMinor)} owed");
        return TypedResults.Ok(owed);
    }
}
