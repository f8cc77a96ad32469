using System.Net;
using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Ledger;
using DecentCloud.Functions.Ledger.Releases;
using DecentCloud.Functions.Marketplace.Contracts;
using Market = DecentCloud.Tests.Billing.Marketplace;
using DecentCloud.Functions.Provisioning.Lifecycle;
using DecentCloud.Tests.Billing;
using DecentCloud.Tests.Support;
using Microsoft.Azure.Functions.Worker;

namespace DecentCloud.Tests.Ledger;

/// <summary>
/// Releases of paid contracts' escrow to their providers, through the real app, Azurite and the Stripe stand-in: the
/// payment comes in through the webhook (with VAT), the contract's history is written as the orchestration writes it,
/// and releases run for the periods the test names, so a month passes without waiting.
/// </summary>
public sealed class ReleaseTests(LedgerAppFixture fixture) : IClassFixture<LedgerAppFixture>
{
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    private readonly TestFunctionApp app = fixture.App;
    private readonly LedgerWorld world = new(fixture.App, fixture.World);

    private PaymentReleases Releases => app.Services.GetRequiredService<PaymentReleases>();

    private async Task<(ReleaseOutcome Outcome, long Amount)> ReleaseAsync(string contractId, DateTimeOffset periodEnd) =>
        await Releases.ReleaseAsync(await world.Store.FindAsync(contractId, CancellationToken.None), periodEnd, CancellationToken.None);

    private static long Earned(long days, long termDays = 30) => (LedgerWorld.Gross * days + termDays - 1) / termDays;

    [Fact]
    public async Task A_30_day_contract_released_daily_sums_exactly_to_its_payment_and_its_escrow_ends_empty()
    {
        var paid = await world.PaidAsync();
        var start = LedgerWorld.Midnight - 31 * Day;
        await world.InServiceAsync(paid.ContractId, start);

        var amounts = new List<long>();
        for (var day = 1; day <= 30; day++)
        {
            var (outcome, amount) = await ReleaseAsync(paid.ContractId, start + day * Day);
            Assert.Equal(ReleaseOutcome.Released, outcome);
            Assert.Equal(Earned(day) - Earned(day - 1), amount);
            amounts.Add(amount);
        }

        Assert.Equal(LedgerWorld.Gross, amounts.Sum());
        // The term is served: nothing more, and once the contract expired it is settled and passed by.
        Assert.Equal(ReleaseOutcome.Nothing, (await ReleaseAsync(paid.ContractId, start + 31 * Day)).Outcome);
        await world.MoveAsync(paid.ContractId, ContractState.Expired, start + 30 * Day);
        Assert.Equal(ReleaseOutcome.Settled, (await ReleaseAsync(paid.ContractId, LedgerWorld.Midnight)).Outcome);
        Assert.True((await world.Store.FindAsync(paid.ContractId, CancellationToken.None))!.ReleasesSettled);

        var payment = (await world.PaymentAsync(paid))!;
        Assert.Equal(LedgerWorld.Gross, payment.ReleasedMinor);
        var transactions = await world.TransactionsAsync(paid.ContractId);
        Assert.All(transactions, t => Assert.True(LedgerBalances.IsBalanced(t), t.IdempotencyKey));
        Assert.Equal(31, transactions.Count);
        var balances = LedgerBalances.Of(transactions);
        var provider = (await world.Store.FindAsync(paid.ContractId, CancellationToken.None))!.ProviderKey;
        Assert.Equal(0, balances.Credit(LedgerAccounts.Escrow(paid.ContractId), "EUR"));
        Assert.Equal(LedgerWorld.Gross, balances.Credit(LedgerAccounts.Payable(provider), "EUR"));
        Assert.Equal(LedgerWorld.Gross, balances.Debit(LedgerAccounts.PaymentsReceived, "EUR"));
    }

    [Fact]
    public async Task A_pause_of_3_days_moves_the_releases_by_3_days()
    {
        var paid = await world.PaidAsync();
        var start = LedgerWorld.Midnight - 34 * Day;
        await world.InServiceAsync(paid.ContractId, start, (ContractState.Paused, start + 5 * Day), (ContractState.Active, start + 8 * Day));

        var released = 0L;
        for (var day = 1; day <= 33; day++)
        {
            released += (await ReleaseAsync(paid.ContractId, start + day * Day)).Amount;
            var served = day <= 5 ? day : day <= 8 ? 5 : day - 3;
            Assert.Equal(Earned(served), released);
        }

        Assert.Equal(LedgerWorld.Gross, released);
        Assert.Equal(LedgerWorld.Gross, (await world.PaymentAsync(paid))!.ReleasedMinor);
        // The paused days released nothing, so they left no ledger transaction.
        Assert.Equal(30, (await world.ReleasesAsync(paid.ContractId)).Count);
    }

    [Fact]
    public async Task A_cancellation_on_day_10_refunds_exactly_what_was_not_released_and_the_escrow_ends_empty()
    {
        var paid = await world.PaidAsync();
        var start = LedgerWorld.Midnight - 10 * Day;
        await world.InServiceAsync(paid.ContractId, start);
        for (var day = 1; day <= 9; day++)
        {
            await ReleaseAsync(paid.ContractId, start + day * Day);
        }

        // The renter cancels through the API, some hours into day 10.
        using (var renter = app.SignedBy(paid.Market.Renter))
        {
            Assert.Equal(HttpStatusCode.OK, (await renter.PostAsync($"api/v1/contracts/{paid.ContractId}/cancel", null)).StatusCode);
        }

        var cancelledAt = (await world.Store.MovesAsync(paid.ContractId, CancellationToken.None)).First().At;
        var refund = Assert.Single(await world.Rows.ListAsync<RefundOwedEntity>(paid.ContractId, RefundOwedEntity.RowKeyPrefix, CancellationToken.None));

        // The next release is the last: the time served up to the cancellation, and the contract's releases are settled.
        var (outcome, last) = await ReleaseAsync(paid.ContractId, LedgerWorld.Midnight + Day);
        Assert.Equal(ReleaseOutcome.Released, outcome);
        var payment = (await world.PaymentAsync(paid))!;
        var earned = RefundRules.Earned(LedgerWorld.Gross, new ServiceTime(720, start, cancelledAt, TimeSpan.Zero));
        Assert.Equal(earned, payment.ReleasedMinor);
        Assert.Equal(LedgerWorld.Gross, payment.ReleasedMinor + refund.RefundMinor);
        Assert.True(last > 0);
        Assert.True((await world.Store.FindAsync(paid.ContractId, CancellationToken.None))!.ReleasesSettled);
        Assert.Equal(ReleaseOutcome.NotReleasable, (await ReleaseAsync(paid.ContractId, LedgerWorld.Midnight + 2 * Day)).Outcome);

        // Escrow now holds exactly the refund owed; once Stripe pays it, nothing.
        Assert.Equal(refund.RefundMinor, (await world.BalancesAsync(paid.ContractId)).Credit(LedgerAccounts.Escrow(paid.ContractId), "EUR"));
        await ActivatorUtilities.CreateInstance<PayRefunds>(app.Services).Run(new TimerInfo(), CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, StripeEvents.Event("charge.refunded", fixture.World.Stripe.RefundedCharge(paid.Intent)))).StatusCode);
        await Eventually.HoldsAsync(async () => (await world.TransactionsAsync(paid.ContractId)).Any(t => t.Kind == LedgerKinds.Refund), "the refund is posted");
        var balances = await world.BalancesAsync(paid.ContractId);
        Assert.Equal(0, balances.Credit(LedgerAccounts.Escrow(paid.ContractId), "EUR"));
        Assert.Equal(refund.RefundMinor, balances.Credit(LedgerAccounts.RefundsPaid, "EUR"));
        Assert.Equal(0, balances.Debit(LedgerAccounts.PlatformLosses, "EUR"));
    }

    [Fact]
    public async Task A_lost_dispute_takes_the_unused_share_from_escrow_and_the_provider_keeps_what_the_served_time_earned()
    {
        var paid = await world.PaidAsync();
        var start = LedgerWorld.Midnight - 12 * Day;
        // The dispute opened on day 10 and paused the contract (as the orchestration does).
        await world.InServiceAsync(paid.ContractId, start, (ContractState.Paused, start + 10 * Day));
        for (var day = 1; day <= 9; day++)
        {
            await ReleaseAsync(paid.ContractId, start + day * Day);
        }

        Assert.Equal(Earned(9), (await world.PaymentAsync(paid))!.ReleasedMinor);
        var lost = StripeEvents.Event("charge.dispute.closed", StripeEvents.Dispute(paid.Intent, "lost", LedgerWorld.Gross));
        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, lost)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, lost)).StatusCode);
        await Eventually.HoldsAsync(async () => (await world.TransactionsAsync(paid.ContractId)).Any(t => t.Kind == LedgerKinds.Chargeback), "the chargeback is posted");

        // The renter's unused share (20 of 30 days) came out of escrow; the chargeback's rest is the platform's loss.
        var unused = LedgerWorld.Gross - Earned(10);
        var chargeback = Assert.Single(await world.TransactionsAsync(paid.ContractId), t => t.Kind == LedgerKinds.Chargeback);
        Assert.Contains(new LedgerEntry(LedgerAccounts.Escrow(paid.ContractId), unused), chargeback.ReadEntries());
        Assert.Contains(new LedgerEntry(LedgerAccounts.PlatformLosses, LedgerWorld.Gross - unused), chargeback.ReadEntries());
        Assert.Equal(unused, (await world.PaymentAsync(paid))!.ChargedBackMinor);

        // The orchestration cancels it: nothing more is owed back (the chargeback paid it), and the last release is day 10's.
        var moved = await app.Services.GetRequiredService<ContractLifecycleWork>().MoveAsync(
            new LifecycleMove(paid.ContractId, ContractState.Paused, ContractState.Cancelled, RefundReason.DisputeLost), CancellationToken.None);
        Assert.True(moved.Moved);
        Assert.Empty(await world.Rows.ListAsync<RefundOwedEntity>(paid.ContractId, RefundOwedEntity.RowKeyPrefix, CancellationToken.None));
        Assert.Equal((ReleaseOutcome.Released, Earned(10) - Earned(9)), await ReleaseAsync(paid.ContractId, LedgerWorld.Midnight + Day));
        Assert.True((await world.Store.FindAsync(paid.ContractId, CancellationToken.None))!.ReleasesSettled);

        var balances = await world.BalancesAsync(paid.ContractId);
        Assert.Equal(0, balances.Credit(LedgerAccounts.Escrow(paid.ContractId), "EUR"));
        Assert.Equal(LedgerWorld.Gross, balances.Credit(LedgerAccounts.RefundsPaid, "EUR"));
    }

    [Fact]
    public async Task Two_instances_and_a_run_that_crashed_midway_release_each_contract_once_for_the_period()
    {
        var market = await new Market(app).OpenAsync(monthlyMinor: LedgerWorld.Net);
        var start = LedgerWorld.Midnight - 3 * Day;
        var contracts = new List<LedgerWorld.Paid>();
        for (var i = 0; i < 6; i++)
        {
            var paid = await world.PaidAsync(market);
            await world.InServiceAsync(paid.ContractId, start);
            contracts.Add(paid);
        }

        // A first run crashed after releasing half of the contracts.
        foreach (var paid in contracts.Take(3))
        {
            await ReleaseAsync(paid.ContractId, LedgerWorld.Midnight);
        }

        // Then two instances run the whole period at once, and the timer runs it through the app as well.
        var now = LedgerWorld.Midnight.AddHours(1);
        var first = ActivatorUtilities.CreateInstance<PaymentReleases>(app.Services);
        var second = ActivatorUtilities.CreateInstance<PaymentReleases>(app.Services);
        await Task.WhenAll(first.ReleaseAllAsync(now, CancellationToken.None), second.ReleaseAllAsync(now, CancellationToken.None), first.ReleaseAllAsync(now, CancellationToken.None));

        foreach (var paid in contracts)
        {
            var release = Assert.Single(await world.ReleasesAsync(paid.ContractId));
            Assert.Equal(LedgerPostings.ReleaseKey(paid.ContractId, LedgerWorld.Midnight), release.IdempotencyKey);
            Assert.Equal(Earned(3), (await world.PaymentAsync(paid))!.ReleasedMinor);
        }
    }

    [Fact]
    public async Task The_timer_releases_through_the_app_up_to_the_last_period_end_and_marks_the_period_done()
    {
        var paid = await world.PaidAsync();
        await world.InServiceAsync(paid.ContractId, LedgerWorld.Midnight - 2 * Day);

        await app.RunAsync(nameof(ReleasePayments));
        var store = app.Services.GetRequiredService<LedgerStore>();
        await Eventually.HoldsAsync(async () => (await store.FindAsync<RunMarkEntity>(LedgerStore.RunsPartition, ReleasePayments.MarkRowKey, CancellationToken.None))?.CompletedThrough == LedgerWorld.Midnight,
            "the release run of the last period is marked done");
        var release = Assert.Single(await world.ReleasesAsync(paid.ContractId));
        Assert.Equal(LedgerPostings.ReleaseKey(paid.ContractId, LedgerWorld.Midnight), release.IdempotencyKey);
        Assert.Equal(Earned(2), (await world.PaymentAsync(paid))!.ReleasedMinor);
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 8902);
    }

    [Fact]
    public void The_platform_fee_is_its_own_entry_and_the_transaction_balances()
    {
        var options = new ReleaseOptions { PlatformFeeBps = 250 };
        var fee = options.FeeOf(595);
        var release = LedgerPostings.Released("c1", "p1", LedgerWorld.Midnight, "EUR", 595, fee, LedgerWorld.Midnight);
        Assert.Equal(14, fee);
        Assert.True(LedgerBalances.IsBalanced(release));
        var balances = LedgerBalances.Of([release]);
        Assert.Equal((595 - 14, 14L), (balances.Credit(LedgerAccounts.Payable("p1"), "EUR"), balances.Credit(LedgerAccounts.PlatformFees, "EUR")));
    }
}
