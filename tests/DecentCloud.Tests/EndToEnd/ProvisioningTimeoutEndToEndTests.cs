using DecentCloud.Functions.Billing;
using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Provisioning.Lifecycle;

namespace DecentCloud.Tests.EndToEnd;

/// <summary>The end-to-end app with a provisioning timeout of 15 seconds.</summary>
public sealed class ShortTimeoutFixture : EndToEndFixture
{
    public const double TimeoutMinutes = 0.25;

    protected override void Configure(Dictionary<string, string?> settings)
    {
        base.Configure(settings);
        settings["PROVISIONING_TIMEOUT_MINUTES"] = TimeoutMinutes.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>No agent takes a paid contract: after the timeout it is provisioningfailed and the renter is owed all they paid.</summary>
public sealed class ProvisioningTimeoutEndToEndTests(ShortTimeoutFixture fixture) : IClassFixture<ShortTimeoutFixture>
{
    [Fact]
    public async Task A_paid_accepted_contract_no_agent_takes_is_provisioningfailed_after_the_timeout_and_its_gross_amount_is_owed_back()
    {
        var world = await new EndToEndWorld(fixture).OpenAsync();
        var contract = await world.RentPaidAndAcceptedAsync();

        await world.StateAsync(contract.Id, ContractState.ProvisioningFailed, TimeSpan.FromMinutes(ShortTimeoutFixture.TimeoutMinutes) + TimeSpan.FromSeconds(30));

        var refunds = await world.App.Services.GetRequiredService<ContractRows>().ListAsync<RefundOwedEntity>(contract.Id, RefundOwedEntity.RowKeyPrefix, CancellationToken.None);
        var refund = Assert.Single(refunds);
        Assert.Equal((EndToEndWorld.NetMinor + EndToEndWorld.TaxMinor, nameof(RefundReason.ProvisioningFailed)), (refund.RefundMinor, refund.Reason));
        Assert.Equal(ContractLifecycleWork.Mover, Assert.Single(await world.Contracts.MovesAsync(contract.Id, CancellationToken.None), m => m.To == ContractState.ProvisioningFailed.Name()).By);
    }
}
