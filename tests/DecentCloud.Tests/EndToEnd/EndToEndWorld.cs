using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using DecentCloud.Functions.Billing.Checkout;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Marketplace.Offerings;
using DecentCloud.Functions.Marketplace.Providers;
using DecentCloud.Functions.Provisioning;
using DecentCloud.Shared.Signing;
using DecentCloud.Tests.Billing;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.EndToEnd;

/// <summary>
/// The app with billing's stand-ins (Stripe, SendGrid, VIES) and the intervals the platform suggests to agents set as
/// short as allowed: poll every 5 s, heartbeat every 10 s, health checks every 30 s.
/// </summary>
public class EndToEndFixture : BillingAppFixture
{
    public const int PollSeconds = 5;
    public const int HealthCheckSeconds = 30;

    protected override void Configure(Dictionary<string, string?> settings)
    {
        settings["AGENT_POLL_SECONDS"] = PollSeconds.ToString(CultureInfo.InvariantCulture);
        settings["AGENT_HEARTBEAT_SECONDS"] = "10";
        settings["AGENT_HEALTH_CHECK_SECONDS"] = HealthCheckSeconds.ToString(CultureInfo.InvariantCulture);
        // The tests run the probe themselves, at the moment they want one; the agents' servers are on 127.0.0.1.
        settings["AzureWebJobs.ProbeContracts.Disabled"] = "true";
        settings["PROBE_ALLOW_PRIVATE_ADDRESSES"] = "true";
    }
}

/// <summary>
/// One test's provider (profile, an offering rentable by the hour) and renter, all through the real API: renting,
/// paying through Stripe's checkout and its webhook event (with VAT), accepting, and the provider's agents.
/// </summary>
public sealed class EndToEndWorld(BillingAppFixture fixture)
{
    /// <summary>720.00 EUR a month: one hour costs 1.00 EUR net, 1.19 EUR with the 19 % German VAT.</summary>
    public const long MonthlyMinor = 72_000;
    public const long NetMinor = 100;
    public const long TaxMinor = 19;
    public const string SshKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM4SmLjN+5JbpBnwySSw+qstvbT+B1vz4L3vuwXZ2/hR alice@laptop";

    private static readonly string[] AllPermissions = ["provision", "health_check", "heartbeat", "fetch_contracts"];

    public TestFunctionApp App { get; } = fixture.App;

    public BillingWorld Billing { get; } = fixture.World;

    public Ed25519phKey Provider { get; } = Ed25519phKey.Generate();

    public Ed25519phKey Renter { get; } = Ed25519phKey.Generate();

    public string OfferingId { get; private set; } = "";

    /// <summary>The API the agents are configured with (the app's base address and <c>api/</c>).</summary>
    public Uri ApiBaseUrl => new(App.Client.BaseAddress!, "api");

    public ContractStore Contracts => App.Services.GetRequiredService<ContractStore>();

    public ProvisioningStore Provisioning => App.Services.GetRequiredService<ProvisioningStore>();

    /// <summary>The provider's profile and an offering that rents from one hour.</summary>
    public async Task<EndToEndWorld> OpenAsync()
    {
        using var client = App.SignedBy(Provider);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("api/v1/providers",
            new ProviderProfile("Acme Cloud", null, null, "support@acme.example", ["eu-central"], null, null))).StatusCode);
        var created = await client.PostAsJsonAsync($"api/v1/providers/{Provider.PublicKeyHex}/offerings",
            new OfferingSpec("Small VM", "vm", 2, 4, 80, null, 1000, "DE", "Frankfurt", MonthlyMinor, "EUR", 1, 720, "manual", null, 10));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        OfferingId = (await created.Content.ReadFromJsonAsync<OfferingView>())!.Id;
        return this;
    }

    /// <summary>A new agent folder of this provider, with the provider's delegation of all four permissions.</summary>
    internal async Task<AgentHome> AgentAsync(string name = "agent")
    {
        var home = AgentHome.Create(ApiBaseUrl, Provider.PublicKeyHex, name);
        await DelegateAsync(home.Key.PublicKeyHex, name);
        return home;
    }

    /// <summary>The provider delegates to the agent key, as <c>dc-agent register</c> does (signed by the provider's key).</summary>
    public async Task DelegateAsync(string agentPubkey, string label)
    {
        using var client = App.SignedBy(Provider);
        var response = await client.PostAsJsonAsync($"api/v1/providers/{Provider.PublicKeyHex}/agent-delegations", new
        {
            agentPublicKey = agentPubkey,
            permissions = AllPermissions,
            expiresAt = DateTimeOffset.UtcNow.AddDays(30),
            label,
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Rents the offering for <paramref name="hours"/>, pays it (checkout, then Stripe's completed-session event with VAT) and has the provider accept it.</summary>
    public async Task<ContractView> RentPaidAndAcceptedAsync(int hours = 1)
    {
        var contract = await RentAsync(hours);
        await PayAsync(contract.Id);
        await AcceptAsync(contract.Id);
        return contract;
    }

    public async Task<ContractView> RentAsync(int hours = 1)
    {
        using var client = App.SignedBy(Renter);
        var response = await client.PostAsJsonAsync("api/v1/contracts", new { providerPubkey = Provider.PublicKeyHex, offeringId = OfferingId, hours, sshKey = SshKey });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ContractView>())!;
    }

    /// <summary>Checkout through the API, then the signed <c>checkout.session.completed</c> event; answers once the contract is paid.</summary>
    public async Task PayAsync(string contractId)
    {
        using var client = App.SignedBy(Renter);
        var started = await client.PostAsync($"api/v1/contracts/{contractId}/checkout", null);
        Assert.True(started.IsSuccessStatusCode, $"checkout answered {(int)started.StatusCode}: {await started.Content.ReadAsStringAsync()}");
        var checkout = (await started.Content.ReadFromJsonAsync<CheckoutView>())!;
        var paid = StripeEvents.Event("checkout.session.completed", Billing.Stripe.CompletedSession(checkout.SessionId, taxMinor: TaxMinor));
        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(App.Client, paid)).StatusCode);
        await Eventually.HoldsAsync(async () => (await ContractAsync(contractId)).PaymentSucceeded, $"contract {contractId} is paid");
    }

    public async Task AcceptAsync(string contractId)
    {
        using var client = App.SignedBy(Provider);
        var response = await client.PostAsync($"api/v1/contracts/{contractId}/accept", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public async Task<ContractEntity> ContractAsync(string contractId) => (await Contracts.FindAsync(contractId, CancellationToken.None))!;

    public async Task StateAsync(string contractId, ContractState state, TimeSpan? timeout = null) =>
        await Eventually.HoldsAsync(async () => (await ContractAsync(contractId)).State == state.Name(), $"contract {contractId} is {state.Name()}", timeout ?? TimeSpan.FromSeconds(45));

    /// <summary>The provisioning reports the API recorded for the contract with status <paramref name="status"/>.</summary>
    public async Task<int> ReportsAsync(string contractId, string status) =>
        (await Provisioning.ReportsAsync(contractId, CancellationToken.None)).Count(r => r.Status == status);
}
