using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using DecentCloud.Functions.Identity.Delegations;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Provisioning;
using DecentCloud.Functions.Provisioning.Health;
using DecentCloud.Shared.Signing;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.ProvisioningApi;

/// <summary>A provider with agents and contracts on a running app: the set-up the provisioning tests share.</summary>
public sealed class ProvisioningWorld(AppFixture fixture)
{
    public const string SshKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM4SmLjN+5JbpBnwySSw+qstvbT+B1vz4L3vuwXZ2/hR alice@laptop";

    public static readonly string[] AllPermissions = ["provision", "health_check", "heartbeat", "fetch_contracts"];

    public TestFunctionApp App { get; } = fixture.App;

    public Ed25519phKey Provider { get; } = Ed25519phKey.Generate();

    public Ed25519phKey Renter { get; } = Ed25519phKey.Generate();

    public ContractStore Contracts => App.Services.GetRequiredService<ContractStore>();

    public ProvisioningStore Provisioning => App.Services.GetRequiredService<ProvisioningStore>();

    public HealthStore Health => App.Services.GetRequiredService<HealthStore>();

    /// <summary>A new agent key with a delegation from <paramref name="provider"/> (the world's provider by default) granting <paramref name="permissions"/>.</summary>
    public async Task<Ed25519phKey> AgentAsync(string[]? permissions = null, Ed25519phKey? provider = null, string label = "rack 1")
    {
        var agent = Ed25519phKey.Generate();
        var owner = provider ?? Provider;
        using var client = App.SignedBy(owner);
        var response = await client.PostAsJsonAsync(
            $"api/v1/providers/{owner.PublicKeyHex}/agent-delegations",
            new { agentPublicKey = agent.PublicKeyHex, permissions = permissions ?? AllPermissions, expiresAt = DateTimeOffset.UtcNow.AddDays(30), label });
        response.EnsureSuccessStatusCode();
        return agent;
    }

    public async Task RevokeAsync(Ed25519phKey agent)
    {
        using var client = App.SignedBy(Provider);
        (await client.DeleteAsync($"api/v1/providers/{Provider.PublicKeyHex}/agent-delegations/{agent.PublicKeyHex}")).EnsureSuccessStatusCode();
    }

    /// <summary>A contract row as renting, paying and accepting leave it (written directly: the orchestration and billing are not under test here).</summary>
    public async Task<ContractEntity> ContractAsync(ContractState state = ContractState.Accepted, bool paid = true, Ed25519phKey? provider = null)
    {
        var now = DateTimeOffset.UtcNow;
        var contract = new ContractEntity
        {
            PartitionKey = ContractStore.NewId(),
            RenterKey = Renter.PublicKeyHex,
            ProviderKey = (provider ?? Provider).PublicKeyHex,
            OfferingId = "small-vm",
            Hours = 720,
            PriceMinor = 1500,
            Currency = "EUR",
            SshKey = SshKey,
            State = state.Name(),
            PaymentSucceeded = paid,
            PaidAt = paid ? now : null,
            CreatedAt = now,
            UpdatedAt = now,
        };
        Assert.True(await Contracts.TryAddAsync(contract, CancellationToken.None));
        return contract;
    }

    /// <summary>Moves the contract as its orchestration would (the row only; the API under test never moves states).</summary>
    public async Task SetStateAsync(string contractId, ContractState state)
    {
        var contract = (await Contracts.FindAsync(contractId, CancellationToken.None))!;
        contract.State = state.Name();
        await Contracts.Table.UpdateEntityAsync(contract, ETag.All, TableUpdateMode.Replace);
    }

    public async Task<HttpResponseMessage> AsAgentAsync(Ed25519phKey agent, HttpMethod method, string path, object? body = null)
    {
        using var client = App.SignedBy(agent);
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add(AgentCaller.AgentHeader, agent.PublicKeyHex);
        if (body is not null)
        {
            request.Content = body is string raw ? new StringContent(raw, Encoding.UTF8, "application/json") : JsonContent.Create(body);
        }

        return await client.SendAsync(request);
    }

    public string Path(string rest, Ed25519phKey? provider = null) => $"api/v1/providers/{(provider ?? Provider).PublicKeyHex}/{rest}";

    public static string Base64(byte[] bytes) => Convert.ToBase64String(bytes);

    /// <summary>A sealed blob of the right form for the contract (the API cannot open it, only check its parts).</summary>
    public static Dictionary<string, object?> Sealed(string contractId, string? aadFor = null) => new()
    {
        ["version"] = 2,
        ["ephemeralPubkey"] = Base64(RandomBytes(32)),
        ["nonce"] = Base64(RandomBytes(24)),
        ["ciphertext"] = Base64(RandomBytes(80)),
        ["aad"] = Base64(Encoding.UTF8.GetBytes(aadFor ?? contractId)),
    };

    public static Dictionary<string, object?> Instance(string contractId, string ipv4 = "203.0.113.10", int sshPort = 22, string externalId = "vm-1") => new()
    {
        ["externalId"] = externalId,
        ["ipv4"] = ipv4,
        ["sshPort"] = sshPort,
        ["sshUser"] = "root",
        ["sealedCredentials"] = Sealed(contractId),
    };

    /// <summary>Locks the contract and reports it provisioned with <paramref name="instance"/>, as the agent does.</summary>
    public async Task ProvisionAsync(Ed25519phKey agent, string contractId, Dictionary<string, object?> instance)
    {
        Assert.Equal(System.Net.HttpStatusCode.OK, (await AsAgentAsync(agent, HttpMethod.Post, Path($"contracts/{contractId}/lock"), new { })).StatusCode);
        var reported = await AsAgentAsync(agent, HttpMethod.Post, Path($"contracts/{contractId}/provisioning"), new { status = "provisioned", instance });
        Assert.Equal(System.Net.HttpStatusCode.Accepted, reported.StatusCode);
    }

    /// <summary>Every row of the contract's partition with its ETag, and the rows of the provisioning tables: what a refused request must leave as it was.</summary>
    public Task<StorageSnapshot> SnapshotAsync() =>
        StorageSnapshot.TakeAsync(fixture.ConnectionString, name => name is not (ContractStore.TableName or ProvisioningStore.IndexTableName or HealthStore.HealthTableName or HealthStore.ProbesTableName or HealthStore.HeartbeatsTableName));

    public static async Task<string?> CheckOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("check", out var check) ? check.GetString() : null;

    private static byte[] RandomBytes(int length) => System.Security.Cryptography.RandomNumberGenerator.GetBytes(length);
}
