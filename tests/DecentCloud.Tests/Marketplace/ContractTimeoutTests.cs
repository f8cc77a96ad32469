using DecentCloud.Functions.Billing;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Billing.Refunding;
using Microsoft.Azure.Functions.Worker;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace DecentCloud.Tests.Marketplace;

public sealed class ContractTimeoutTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 10, 0, 0, TimeSpan.Zero);

    /// <summary>The orchestrations' sweep would start one for the paid accepted contract, long past its provisioning timeout.</summary>
    private static readonly Dictionary<string, string?> NoOrchestrationSweep = new() { ["AzureWebJobs.SweepContractLifecycles.Disabled"] = "true" };

    private static async Task<ContractEntity> InsertAsync(ContractStore store, ContractRows rows, ContractState state, bool paid, DateTimeOffset updated, long price = 72_000)
    {
        var contract = new ContractEntity
        {
            PartitionKey = ContractStore.NewId(),
            RenterKey = "renter",
            ProviderKey = "provider",
            OfferingId = "offering",
            Hours = 720,
            PriceMinor = price,
            Currency = "EUR",
            SshKey = "ssh-ed25519 AAAA",
            State = state.Name(),
            PaymentSucceeded = paid,
            CreatedAt = updated,
            UpdatedAt = updated,
        };
        Assert.True(await store.TryAddAsync(contract, CancellationToken.None));
        if (paid)
        {
            // Paid through Checkout: the net price plus 19 % VAT.
            Assert.True(await rows.TryAddAsync(new PaymentEntity
            {
                PartitionKey = contract.PartitionKey,
                RowKey = PaymentEntity.RowKeyFor("cs_" + contract.PartitionKey),
                SessionId = "cs_" + contract.PartitionKey,
                Status = PaymentStatus.Paid,
                Currency = "EUR",
                AmountSubtotalMinor = price,
                AmountTaxMinor = price * 19 / 100,
                AmountTotalMinor = price + (price * 19 / 100),
                PaymentIntentId = "pi_" + contract.PartitionKey,
            }, CancellationToken.None));
        }

        return contract;
    }

    [Fact]
    public async Task Contracts_waiting_an_hour_time_out_a_paid_one_with_its_full_refund_in_the_same_move_and_a_paid_accepted_one_is_left_to_its_orchestration()
    {
        await using var app = await TestFunctionApp.StartAsync(storage.ConnectionString, settings: NoOrchestrationSweep);
        var store = app.Services.GetRequiredService<ContractStore>();
        var rows = app.Services.GetRequiredService<ContractRows>();
        var unpaidRequested = await InsertAsync(store, rows, ContractState.Requested, paid: false, Start);
        var paidPending = await InsertAsync(store, rows, ContractState.Pending, paid: true, Start);
        var paidAccepted = await InsertAsync(store, rows, ContractState.Accepted, paid: true, Start, price: 500);
        var unpaidAccepted = await InsertAsync(store, rows, ContractState.Accepted, paid: false, Start, price: 500);
        var fresh = await InsertAsync(store, rows, ContractState.Requested, paid: false, Start.AddMinutes(50));
        var active = await InsertAsync(store, rows, ContractState.Active, paid: true, Start);
        var time = new FakeTimeProvider(Start.AddMinutes(61));
        var sweep = ActivatorUtilities.CreateInstance<ExpireContracts>(app.Services, time);

        await sweep.Run(new TimerInfo(), CancellationToken.None);

        async Task<string> StateOf(ContractEntity c) => (await store.FindAsync(c.PartitionKey, CancellationToken.None))!.State;
        Task<List<RefundOwedEntity>> RefundsOf(ContractEntity c) => rows.ListAsync<RefundOwedEntity>(c.PartitionKey, RefundOwedEntity.RowKeyPrefix, CancellationToken.None);

        Assert.Equal("expired", await StateOf(unpaidRequested));
        Assert.Empty(await RefundsOf(unpaidRequested));
        Assert.Equal("expired", await StateOf(paidPending));
        var expiredRefund = Assert.Single(await RefundsOf(paidPending));
        // The gross amount charged, VAT included: 720.00 + 136.80.
        Assert.Equal((85_680, nameof(RefundReason.ExpiredWaitingForProvider)), (expiredRefund.RefundMinor, expiredRefund.Reason));
        // The paid accepted contract's provisioning is timed out by its orchestration (ContractLifecycleTests), not here.
        Assert.Equal("accepted", await StateOf(paidAccepted));
        Assert.Empty(await RefundsOf(paidAccepted));
        Assert.Equal("provisioningfailed", await StateOf(unpaidAccepted));
        Assert.Empty(await RefundsOf(unpaidAccepted));
        Assert.Empty(await RefundsOf(active));
        Assert.Equal("requested", await StateOf(fresh));
        Assert.Equal("active", await StateOf(active));
        var moves = await store.MovesAsync(unpaidAccepted.PartitionKey, CancellationToken.None);
        Assert.Equal(ExpireContracts.Mover, Assert.Single(moves).By);
        Assert.Empty(await store.MovesAsync(paidAccepted.PartitionKey, CancellationToken.None));
    }

    [Fact]
    public async Task A_second_sweep_moves_nothing_again()
    {
        await using var app = await TestFunctionApp.StartAsync(storage.ConnectionString, settings: NoOrchestrationSweep);
        var store = app.Services.GetRequiredService<ContractStore>();
        var rows = app.Services.GetRequiredService<ContractRows>();
        var contract = await InsertAsync(store, rows, ContractState.Pending, paid: true, Start);
        var time = new FakeTimeProvider(Start.AddHours(2));
        var sweep = ActivatorUtilities.CreateInstance<ExpireContracts>(app.Services, time);

        await sweep.Run(new TimerInfo(), CancellationToken.None);
        await sweep.Run(new TimerInfo(), CancellationToken.None);

        Assert.Single(await store.MovesAsync(contract.PartitionKey, CancellationToken.None));
    }

    [Fact]
    public async Task A_sweep_on_storage_where_no_contract_was_ever_written_finds_nothing_and_does_not_fail()
    {
        await using var fresh = await DecentCloud.Testing.Azurite.StartAsync();
        await using var services = TestFunctionApp.AppServices(TestFunctionApp.Settings(fresh.ConnectionString, TestFunctionApp.UniqueHostId()));
        var sweep = ActivatorUtilities.CreateInstance<ExpireContracts>(services);

        await sweep.Run(new TimerInfo(), CancellationToken.None);

        var tables = services.GetRequiredService<Azure.Data.Tables.TableServiceClient>();
        Assert.Empty(await tables.QueryAsync().ToListAsync());
    }
}
