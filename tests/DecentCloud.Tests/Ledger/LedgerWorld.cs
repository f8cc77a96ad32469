using System.Net;
using System.Net.Http.Json;
using DecentCloud.Functions.Billing;
using DecentCloud.Functions.Billing.Checkout;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Ledger;
using DecentCloud.Functions.Marketplace.Contracts;
using Market = DecentCloud.Tests.Billing.Marketplace;
using DecentCloud.Tests.Billing;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Ledger;

/// <summary>One app per ledger test class, with billing's stand-ins; the timers are run by hand (with the time the test chooses).</summary>
public class LedgerAppFixture : BillingAppFixture
{
    protected override void Configure(Dictionary<string, string?> settings)
    {
        settings["AzureWebJobs.ReleasePayments.Disabled"] = "true";
        settings["AzureWebJobs.ReconcileLedger.Disabled"] = "true";
        settings["AzureWebJobs.PayRefunds.Disabled"] = "true";
        settings["AzureWebJobs.ExpireContracts.Disabled"] = "true";
        // The tests write the history themselves: no orchestration moves their contracts.
        settings["AzureWebJobs.SweepContractLifecycles.Disabled"] = "true";
        settings["AzureWebJobs.SignalContractLifecycle.Disabled"] = "true";
    }
}

/// <summary>
/// Paid contracts for ledger tests: rented and paid through the API and the Stripe webhook (15.00 EUR net for 720 hours
/// + 19 % VAT = 17.85 gross), then put in service with a history written as the orchestration writes it, at times the
/// test chooses (so a month of releases runs without waiting).
/// </summary>
public sealed class LedgerWorld(TestFunctionApp app, BillingWorld world)
{
    public const long Net = 1500;
    public const long Vat = 285;
    public const long Gross = Net + Vat;

    public ContractRows Rows => app.Services.GetRequiredService<ContractRows>();

    public ContractStore Store => app.Services.GetRequiredService<ContractStore>();

    /// <summary>Midnight UTC today: a release period's end with the default 24-hour interval.</summary>
    public static DateTimeOffset Midnight => new(DateTimeOffset.UtcNow.UtcDateTime.Date, TimeSpan.Zero);

    public sealed record Paid(string ContractId, string SessionId, string Intent, string ProviderKey, Market Market);

    public async Task<Paid> PaidAsync(Market? market = null)
    {
        market ??= await new Market(app).OpenAsync(monthlyMinor: Net);
        var contract = await market.RentAsync();
        var checkout = (await (await market.CheckoutAsync(contract.Id)).Content.ReadFromJsonAsync<CheckoutView>())!;
        var session = world.Stripe.CompletedSession(checkout.SessionId, taxMinor: Vat);
        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, StripeEvents.Event("checkout.session.completed", session))).StatusCode);
        await Eventually.HoldsAsync(async () => (await Market.PaymentAsync(app, contract.Id, checkout.SessionId))?.Status == PaymentStatus.Paid,
            $"the payment of contract {contract.Id} is recorded");
        return new Paid(contract.Id, checkout.SessionId, session["payment_intent"]!.GetValue<string>(), contract.ProviderPublicKey, market);
    }

    /// <summary>Accepted, provisioning, provisioned at <paramref name="provisionedAt"/> and active, then each further move.</summary>
    public async Task InServiceAsync(string contractId, DateTimeOffset provisionedAt, params (ContractState To, DateTimeOffset At)[] later)
    {
        (ContractState, DateTimeOffset)[] moves =
        [
            (ContractState.Accepted, provisionedAt.AddHours(-2)),
            (ContractState.Provisioning, provisionedAt.AddHours(-1)),
            (ContractState.Provisioned, provisionedAt),
            (ContractState.Active, provisionedAt.AddMinutes(1)),
            .. later,
        ];
        foreach (var (to, at) in moves)
        {
            await MoveAsync(contractId, to, at);
        }
    }

    public async Task MoveAsync(string contractId, ContractState to, DateTimeOffset at)
    {
        var contract = (await Store.FindAsync(contractId, CancellationToken.None))!;
        var move = new ContractMoveEntity { PartitionKey = contractId, RowKey = ContractMoveEntity.RowKeyFor(at), From = contract.State, To = to.Name(), By = "test", At = at };
        contract.State = to.Name();
        Assert.True(await Store.TryMoveAsync(contract, move, CancellationToken.None));
    }

    public Task<PaymentEntity?> PaymentAsync(Paid paid) => Market.PaymentAsync(app, paid.ContractId, paid.SessionId);

    public Task<List<LedgerTransactionEntity>> TransactionsAsync(string contractId) =>
        Rows.ListAsync<LedgerTransactionEntity>(contractId, LedgerTransactionEntity.RowKeyPrefix, CancellationToken.None);

    public async Task<List<LedgerTransactionEntity>> ReleasesAsync(string contractId) =>
        (await TransactionsAsync(contractId)).Where(t => t.Kind == LedgerKinds.Release).ToList();

    public async Task<Dictionary<(string Account, string Currency), long>> BalancesAsync(string contractId) =>
        LedgerBalances.Of(await TransactionsAsync(contractId));
}
