using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using DecentCloud.Functions.Billing;
using DecentCloud.Functions.Billing.Invoices;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Marketplace.Offerings;
using DecentCloud.Functions.Marketplace.Providers;
using DecentCloud.Shared.Signing;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Billing;

/// <summary>
/// The outside world of billing for one test class: local Stripe, SendGrid and VIES stand-ins, and the settings that
/// point the app at them, with a seller in Germany.
/// </summary>
public sealed class BillingWorld : IAsyncLifetime
{
    public const string SendGridKey = "SG.world-test-key";
    public const string SellerName = "Decent Cloud Marketplace GmbH";
    public const string SellerVatId = "DE811907980";

    public StripeStandIn Stripe { get; private set; } = null!;

    public SendGridStandIn SendGrid { get; private set; } = null!;

    public ViesStandIn Vies { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Stripe = await StripeStandIn.StartAsync();
        SendGrid = await SendGridStandIn.StartAsync(SendGridKey);
        Vies = await ViesStandIn.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Stripe.DisposeAsync();
        await SendGrid.DisposeAsync();
        await Vies.DisposeAsync();
    }

    public Dictionary<string, string?> Settings(bool sellerVatId = true, bool seller = true) => new()
    {
        ["STRIPE_SECRET_KEY"] = StripeStandIn.ApiKey,
        ["STRIPE_API_BASE"] = Stripe.BaseAddress.ToString(),
        ["SENDGRID_API_KEY"] = SendGridKey,
        ["SENDGRID_API_HOST"] = SendGrid.BaseAddress.ToString(),
        ["VIES_BASE_URL"] = Vies.BaseAddress.ToString(),
        ["INVOICE_SELLER_NAME"] = seller ? SellerName : null,
        ["INVOICE_SELLER_ADDRESS"] = seller ? "Chausseestraße 10;10115 Berlin" : null,
        ["INVOICE_SELLER_COUNTRY"] = "DE",
        ["INVOICE_SELLER_VAT_ID"] = sellerVatId ? SellerVatId : null,
        ["INVOICE_SELLER_IBAN"] = "DE89370400440532013000",
    };
}

/// <summary>A provider with an offering and a renter, through the real API, and the contract rows billing reads.</summary>
public sealed class Marketplace(TestFunctionApp app)
{
    public const string SshKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM4SmLjN+5JbpBnwySSw+qstvbT+B1vz4L3vuwXZ2/hR alice@laptop";

    public Ed25519phKey Provider { get; } = Ed25519phKey.Generate();

    public Ed25519phKey Renter { get; } = Ed25519phKey.Generate();

    public string OfferingId { get; private set; } = "";

    /// <summary>Onboards the provider with an offering of <paramref name="monthlyMinor"/> EUR a month.</summary>
    public async Task<Marketplace> OpenAsync(long monthlyMinor = 1500)
    {
        using var client = app.SignedBy(Provider);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("api/v1/providers",
            new ProviderProfile("Acme Cloud", null, null, "support@acme.example", ["eu-central"], null, null))).StatusCode);
        var created = await client.PostAsJsonAsync($"api/v1/providers/{Provider.PublicKeyHex}/offerings",
            new OfferingSpec("Small VM", "vm", 2, 4, 80, null, 1000, "DE", "Frankfurt", monthlyMinor, "EUR", 24, 720, "hetzner", "kv://hetzner/fsn1", 10));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        OfferingId = (await created.Content.ReadFromJsonAsync<OfferingView>())!.Id;
        return this;
    }

    public async Task<ContractView> RentAsync(int hours = 720)
    {
        using var client = app.SignedBy(Renter);
        var response = await client.PostAsJsonAsync("api/v1/contracts", new { providerPubkey = Provider.PublicKeyHex, offeringId = OfferingId, hours, sshKey = SshKey });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ContractView>())!;
    }

    public async Task SaveBillingAsync(string legalName = "Beta GmbH", string country = "DE", string? vatId = null)
    {
        using var client = app.SignedBy(Renter);
        var response = await client.PutAsJsonAsync($"api/v1/accounts/{Renter.PublicKeyHex}/billing",
            new { legalName, line1 = "Invalidenstraße 116", city = "Berlin", postalCode = "10115", country, vatId, invoiceEmail = "invoices@beta.example" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public async Task<HttpResponseMessage> CheckoutAsync(string contractId, Ed25519phKey? signer = null)
    {
        using var client = app.SignedBy(signer ?? Renter);
        return await client.PostAsync($"api/v1/contracts/{contractId}/checkout", null);
    }

    public static async Task<T?> RowAsync<T>(TestFunctionApp app, string contractId, string rowKey)
        where T : class, Azure.Data.Tables.ITableEntity =>
        await app.Services.GetRequiredService<ContractRows>().FindAsync<T>(contractId, rowKey, CancellationToken.None);

    public static Task<List<InvoiceEntity>> DocumentsAsync(TestFunctionApp app, string contractId) =>
        app.Services.GetRequiredService<ContractRows>().ListAsync<InvoiceEntity>(contractId, InvoiceEntity.RowKeyPrefix, CancellationToken.None);

    public static Task<PaymentEntity?> PaymentAsync(TestFunctionApp app, string contractId, string sessionId) =>
        RowAsync<PaymentEntity>(app, contractId, PaymentEntity.RowKeyFor(sessionId));

    /// <summary>A contract row written straight to the table, for tests about many payments at once.</summary>
    public static async Task<ContractEntity> ContractRowAsync(TestFunctionApp app, string renterKey, string providerKey, string offeringId, long priceMinor)
    {
        var now = DateTimeOffset.UtcNow;
        var contract = new ContractEntity
        {
            PartitionKey = ContractStore.NewId(),
            RenterKey = renterKey,
            ProviderKey = ProviderStore.PartitionKey(providerKey),
            OfferingId = offeringId,
            Hours = 720,
            PriceMinor = priceMinor,
            Currency = "EUR",
            SshKey = SshKey,
            State = ContractState.Accepted.Name(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        Assert.True(await app.Services.GetRequiredService<ContractStore>().TryAddAsync(contract, CancellationToken.None));
        return contract;
    }

    /// <summary>A Checkout Session as Stripe would have created it for the contract, without going through checkout.</summary>
    public static JsonObject SessionFor(ContractEntity contract, long? taxMinor, string? vatId = null, string country = "DE")
    {
        var session = StripeStandIn.Fixtures()["checkout.session"]!.DeepClone().AsObject();
        var id = "cs_test_" + Guid.NewGuid().ToString("N");
        session["id"] = id;
        session["status"] = "complete";
        session["payment_status"] = "paid";
        session["payment_intent"] = "pi_" + Guid.NewGuid().ToString("N")[..24];
        session["client_reference_id"] = contract.PartitionKey;
        session["metadata"] = new JsonObject { ["contract_id"] = contract.PartitionKey };
        session["currency"] = "eur";
        session["amount_subtotal"] = contract.PriceMinor;
        session["amount_total"] = contract.PriceMinor + (taxMinor ?? 0);
        session["automatic_tax"] = new JsonObject { ["enabled"] = true, ["status"] = taxMinor is null ? "failed" : "complete", ["liability"] = null, ["provider"] = "stripe" };
        session["total_details"] = new JsonObject { ["amount_discount"] = 0, ["amount_shipping"] = 0, ["amount_tax"] = taxMinor ?? 0 };
        session["customer_details"] = new JsonObject
        {
            ["address"] = new JsonObject { ["city"] = "Paris", ["country"] = country, ["line1"] = "1 Rue de Rivoli", ["line2"] = null, ["postal_code"] = "75001", ["state"] = null },
            ["email"] = $"buyer-{contract.PartitionKey}@example.com",
            ["name"] = "Camille Client",
            ["tax_exempt"] = "none",
            ["tax_ids"] = vatId is null ? new JsonArray() : new JsonArray(new JsonObject { ["type"] = "eu_vat", ["value"] = vatId }),
            ["business_name"] = null,
            ["individual_name"] = null,
        };
        return session;
    }
}
