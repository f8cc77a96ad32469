using System.Net;
using System.Net.Http.Json;
using DecentCloud.Functions.Ledger;
using DecentCloud.Functions.Ledger.Payouts;
using DecentCloud.Functions.Ledger.Releases;
using DecentCloud.Functions.Operations;
using DecentCloud.Tests.Support;
using Market = DecentCloud.Tests.Billing.Marketplace;

namespace DecentCloud.Tests.Ledger;

/// <summary>The ledger's app with a platform fee of 2.5 %, so payouts settle net amounts.</summary>
public sealed class PayoutAppFixture : LedgerAppFixture
{
    public const int FeeBps = 250;

    protected override void Configure(Dictionary<string, string?> settings)
    {
        base.Configure(settings);
        settings["PLATFORM_FEE_BPS"] = FeeBps.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// Payouts through the admin API: paid contracts (Stripe, 19 % VAT) released for chosen days, then what is owed, payouts
/// recorded against it, the provider's earnings, and the rows and ledger transactions they leave.
/// </summary>
public sealed class PayoutTests(PayoutAppFixture fixture) : IClassFixture<PayoutAppFixture>
{
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    private readonly TestFunctionApp app = fixture.App;
    private readonly LedgerWorld world = new(fixture.App, fixture.World);

    private LedgerStore Ledger => app.Services.GetRequiredService<LedgerStore>();

    private static long Net(long released) => released - (released * PayoutAppFixture.FeeBps / 10_000);

    private static HttpRequestMessage Admin(HttpMethod method, string path, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("x-functions-key", TestKeys.Master);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return request;
    }

    private async Task<HttpResponseMessage> PayAsync(string provider, long amountMinor, string reference, string currency = "EUR", string method = "bank-transfer") =>
        await app.Client.SendAsync(Admin(HttpMethod.Post, "api/v1/admin/payouts", new { providerPubkey = provider, currency, amountMinor, method, transferReference = reference }));

    private async Task<OwedView> OwedAsync(string provider)
    {
        var response = await app.Client.SendAsync(Admin(HttpMethod.Get, $"api/v1/admin/payment-releases?provider={provider}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Assert.Single((await response.Content.ReadFromJsonAsync<List<OwedView>>())!);
    }

    private async Task<long> ReleaseAsync(string contractId, DateTimeOffset periodEnd)
    {
        var (outcome, amount) = await app.Services.GetRequiredService<PaymentReleases>().ReleaseAsync(await world.Store.FindAsync(contractId, CancellationToken.None), periodEnd, CancellationToken.None);
        Assert.Equal(ReleaseOutcome.Released, outcome);
        return amount;
    }

    /// <summary>A provider with one paid contract in service for ten days, released for its first <paramref name="days"/> days.</summary>
    private async Task<(string Provider, string ContractId, List<long> Released)> ReleasedAsync(int days, Market? market = null)
    {
        var paid = await world.PaidAsync(market);
        var start = LedgerWorld.Midnight - 10 * Day;
        await world.InServiceAsync(paid.ContractId, start);
        var released = new List<long>();
        for (var day = 1; day <= days; day++)
        {
            released.Add(await ReleaseAsync(paid.ContractId, start + day * Day));
        }

        return (paid.ProviderKey, paid.ContractId, released);
    }

    private async Task<List<Azure.Data.Tables.TableEntity>> RowsOfAsync(string provider)
    {
        var rows = new List<Azure.Data.Tables.TableEntity>();
        await foreach (var row in Ledger.QueryAsync<Azure.Data.Tables.TableEntity>(Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {provider}"), CancellationToken.None))
        {
            rows.Add(row);
        }

        return rows;
    }

    private async Task<List<LedgerTransactionEntity>> PayoutTransactionsAsync(string provider) =>
        (await Ledger.ListAsync<LedgerTransactionEntity>(provider, LedgerTransactionEntity.RowKeyPrefix, CancellationToken.None)).ToList();

    [Fact]
    public async Task A_payout_settles_released_money_oldest_release_first_and_the_provider_sees_its_balance_and_history()
    {
        var market = await new Market(app).OpenAsync(monthlyMinor: LedgerWorld.Net);
        var (provider, first, firstReleased) = await ReleasedAsync(2, market);
        var (_, second, secondReleased) = await ReleasedAsync(1, market);
        var nets = firstReleased.Concat(secondReleased).Select(Net).ToList();

        var owed = await OwedAsync(provider);
        Assert.Equal((firstReleased.Sum() + secondReleased.Sum(), nets.Sum(), 0L, nets.Sum()),
            (owed.Balance.ReleasedMinor, owed.Balance.NetReleasedMinor, owed.Balance.PaidOutMinor, owed.Balance.OwedMinor));
        Assert.Equal(3, owed.OutstandingReleases);
        // Oldest first: the first contract's day 1, then day 2 of both.
        Assert.Equal(first, owed.Outstanding[0].ContractId);
        Assert.Equal(nets[0], owed.Outstanding[0].OutstandingMinor);

        var response = await PayAsync(provider, nets[0] + 10, "BANK-2026-0001");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var receipt = (await response.Content.ReadFromJsonAsync<PayoutReceipt>())!;
        Assert.Equal(nets.Sum() - nets[0] - 10, receipt.OwedMinor);
        Assert.Equal(2, receipt.SettledReleases.Count);
        Assert.Equal((first, nets[0], 0L), (receipt.SettledReleases[0].ContractId, receipt.SettledReleases[0].SettledMinor, receipt.SettledReleases[0].OutstandingMinor));
        Assert.Equal(10, receipt.SettledReleases[1].SettledMinor);
        Assert.Equal(0, receipt.Payout.SettledFromMinor);

        owed = await OwedAsync(provider);
        Assert.Equal((nets[0] + 10, nets.Sum() - nets[0] - 10, 2), (owed.Balance.PaidOutMinor, owed.Balance.OwedMinor, owed.OutstandingReleases));
        Assert.Equal(receipt.SettledReleases[1].TransactionKey, owed.Outstanding[0].TransactionKey);
        Assert.Equal(10, owed.Outstanding[0].SettledMinor);

        // The ledger: one payout transaction in the provider's partition, and the provider's payable is what is owed.
        var payout = Assert.Single(await PayoutTransactionsAsync(provider));
        Assert.True(LedgerBalances.IsBalanced(payout));
        Assert.Equal($"payout:{provider}:EUR:BANK-2026-0001", payout.IdempotencyKey);
        var releases = new List<LedgerTransactionEntity>();
        foreach (var contract in new[] { first, second })
        {
            releases.AddRange(await world.ReleasesAsync(contract));
        }

        Assert.Equal(owed.Balance.OwedMinor, LedgerBalances.Of(releases.Append(payout)).Credit(LedgerAccounts.Payable(provider), "EUR"));

        // The provider reads its own earnings; another key may not.
        using var asProvider = app.SignedBy(market.Provider);
        var earnings = (await asProvider.GetFromJsonAsync<EarningsView>($"api/v1/providers/{provider}/earnings"))!;
        var balance = Assert.Single(earnings.Balances);
        Assert.Equal((nets.Sum(), nets[0] + 10, owed.Balance.OwedMinor), (balance.NetReleasedMinor, balance.PaidOutMinor, balance.OwedMinor));
        Assert.Equal(3, earnings.Releases);
        Assert.Equal("BANK-2026-0001", Assert.Single(earnings.Payouts).TransferReference);
        using var asRenter = app.SignedBy(market.Renter);
        await ApiAssert.ProblemAsync(await asRenter.GetAsync($"api/v1/providers/{provider}/earnings"), HttpStatusCode.Forbidden);

        // Listed for admins, and audited.
        var page = (await (await app.Client.SendAsync(Admin(HttpMethod.Get, $"api/v1/admin/payouts?provider={provider}"))).Content.ReadFromJsonAsync<PayoutPage>())!;
        Assert.Equal(nets[0] + 10, Assert.Single(page.Payouts).AmountMinor);
        Assert.Null(page.Continuation);
        var actions = (await (await app.Client.SendAsync(Admin(HttpMethod.Get, "api/v1/admin/actions?limit=1000"))).Content.ReadFromJsonAsync<List<AdminAction>>())!;
        Assert.Contains(actions, a => a.Action == "payout.record" && a.Target == $"{provider}/EUR/BANK-2026-0001" && a.Outcome.StartsWith("recorded", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_payout_of_more_than_is_owed_is_refused_with_what_is_owed_and_writes_nothing()
    {
        var (provider, _, released) = await ReleasedAsync(2);
        var owed = released.Select(Net).Sum();

        var problem = await ApiAssert.ProblemAsync(await PayAsync(provider, owed + 1, "OVER-1"), HttpStatusCode.Conflict);
        Assert.Equal(owed, problem.GetProperty("owedMinor").GetInt64());
        Assert.Empty(await RowsOfAsync(provider));
        Assert.Null(await Ledger.FindAsync<TransferReferenceEntity>(TransferReferenceEntity.Partition, TransferReferenceEntity.RowKeyFor("OVER-1"), CancellationToken.None));

        // The whole amount is fine, and then nothing more.
        Assert.Equal(HttpStatusCode.Created, (await PayAsync(provider, owed, "OVER-1")).StatusCode);
        problem = await ApiAssert.ProblemAsync(await PayAsync(provider, 1, "OVER-2"), HttpStatusCode.Conflict);
        Assert.Equal(0, problem.GetProperty("owedMinor").GetInt64());
        Assert.Equal(0, (await OwedAsync(provider)).Balance.OwedMinor);
    }

    [Fact]
    public async Task The_same_transfer_reference_twice_is_one_payout_and_with_another_amount_currency_or_provider_is_409()
    {
        var (provider, _, released) = await ReleasedAsync(3);
        var (otherProvider, _, _) = await ReleasedAsync(1);
        var owed = released.Select(Net).Sum();

        var firstAnswer = await PayAsync(provider, 50, "ICPAY-tx-77");
        Assert.Equal(HttpStatusCode.Created, firstAnswer.StatusCode);
        var first = (await firstAnswer.Content.ReadFromJsonAsync<PayoutReceipt>())!;
        var again = await PayAsync(provider, 50, "ICPAY-tx-77");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var second = (await again.Content.ReadFromJsonAsync<PayoutReceipt>())!;
        Assert.Equal(first.Payout, second.Payout);

        foreach (var other in new[] { PayAsync(provider, 51, "ICPAY-tx-77"), PayAsync(otherProvider, 50, "ICPAY-tx-77"), PayAsync(provider, 50, "ICPAY-tx-77", currency: "USD"), PayAsync(provider, 50, "ICPAY-tx-77", method: "icpay") })
        {
            var problem = await ApiAssert.ProblemAsync(await other, HttpStatusCode.Conflict);
            Assert.Equal(50, problem.GetProperty("existing").GetProperty("amountMinor").GetInt64());
        }

        Assert.Single(await PayoutTransactionsAsync(provider));
        Assert.Empty(await PayoutTransactionsAsync(otherProvider));
        Assert.Equal((50L, owed - 50), ((await OwedAsync(provider)).Balance.PaidOutMinor, (await OwedAsync(provider)).Balance.OwedMinor));
    }

    [Fact]
    public async Task A_payout_with_a_field_not_valid_is_400_naming_the_field_and_writes_nothing()
    {
        var (provider, _, _) = await ReleasedAsync(1);
        object[] bodies =
        [
            new { providerPubkey = "abc", currency = "EUR", amountMinor = 10, method = "bank-transfer", transferReference = "R-1" },
            new { providerPubkey = provider, currency = "EURO", amountMinor = 10, method = "bank-transfer", transferReference = "R-1" },
            new { providerPubkey = provider, currency = "EUR", amountMinor = 0, method = "bank-transfer", transferReference = "R-1" },
            new { providerPubkey = provider, currency = "EUR", amountMinor = -5, method = "bank-transfer", transferReference = "R-1" },
            new { providerPubkey = provider, currency = "EUR", amountMinor = 10, method = "cash", transferReference = "R-1" },
            new { providerPubkey = provider, currency = "EUR", amountMinor = 10, method = "bank-transfer", transferReference = " " },
            new { providerPubkey = provider, currency = "EUR", amountMinor = 10, method = "bank-transfer", transferReference = new string('x', 201) },
            new { providerPubkey = provider, currency = "EUR", amountMinor = 10, method = "bank-transfer" },
        ];
        string[] fields = ["providerPubkey", "currency", "amountMinor", "amountMinor", "method", "transferReference", "transferReference", "transferReference"];
        for (var i = 0; i < bodies.Length; i++)
        {
            var problem = await ApiAssert.ProblemAsync(await app.Client.SendAsync(Admin(HttpMethod.Post, "api/v1/admin/payouts", bodies[i])), HttpStatusCode.BadRequest);
            Assert.True(problem.GetProperty("errors").TryGetProperty(fields[i], out _), $"body {i} names {fields[i]}: {problem}");
        }

        await ApiAssert.ProblemAsync(await app.Client.SendAsync(Admin(HttpMethod.Post, "api/v1/admin/payouts")), HttpStatusCode.BadRequest);
        Assert.Empty(await RowsOfAsync(provider));
    }

    [Fact]
    public async Task Payouts_recorded_at_once_for_one_provider_never_pay_out_more_than_is_owed()
    {
        var (provider, _, released) = await ReleasedAsync(4);
        var owed = released.Select(Net).Sum();
        var share = owed / 4;

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => PayAsync(provider, share, $"RACE-{provider[..8]}-{i}")));

        Assert.Equal(4, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.Equal(6, answers.Count(a => a.StatusCode == HttpStatusCode.Conflict));
        var payouts = await PayoutTransactionsAsync(provider);
        Assert.Equal(4, payouts.Count);
        var balance = await OwedAsync(provider);
        Assert.Equal((4 * share, owed - (4 * share)), (balance.Balance.PaidOutMinor, balance.Balance.OwedMinor));
        // Each settled its own stretch: one after the other, no overlap.
        var pages = (await (await app.Client.SendAsync(Admin(HttpMethod.Get, $"api/v1/admin/payouts?provider={provider}&limit=3"))).Content.ReadFromJsonAsync<PayoutPage>())!;
        Assert.NotNull(pages.Continuation);
        var rest = (await (await app.Client.SendAsync(Admin(HttpMethod.Get, $"api/v1/admin/payouts?provider={provider}&limit=3&continuation={pages.Continuation}"))).Content.ReadFromJsonAsync<PayoutPage>())!;
        Assert.Null(rest.Continuation);
        Assert.Equal([0, share, 2 * share, 3 * share], pages.Payouts.Concat(rest.Payouts).Select(p => p.SettledFromMinor).Order().ToArray());
    }

    [Fact]
    public async Task A_continuation_that_no_page_answered_is_400()
    {
        await ApiAssert.ProblemAsync(await app.Client.SendAsync(Admin(HttpMethod.Get, "api/v1/admin/payouts?continuation=%%%")), HttpStatusCode.BadRequest);
        await ApiAssert.ProblemAsync(await app.Client.SendAsync(Admin(HttpMethod.Get, "api/v1/admin/payouts?limit=0")), HttpStatusCode.BadRequest);
        await ApiAssert.ProblemAsync(await app.Client.SendAsync(Admin(HttpMethod.Get, "api/v1/admin/payment-releases?provider=xyz")), HttpStatusCode.BadRequest);
    }
}
