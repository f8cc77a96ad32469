using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DecentCloud.Functions.Identity.Delegations;
using DecentCloud.Shared.Signing;
using DecentCloud.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace DecentCloud.Tests.Identity;

public sealed record AgentSeen(string Agent, string Provider);

/// <summary>The delegation check, run by the worker middleware, in front of the agent test functions of tests/DecentCloud.Functions.TestApp.</summary>
public sealed class AgentDelegationTests(TestAppFixture fixture) : IClassFixture<TestAppFixture>
{
    private static readonly string[] Heartbeat = ["heartbeat"];
    private readonly Ed25519phKey provider = Ed25519phKey.Generate();
    private readonly Ed25519phKey agent = Ed25519phKey.Generate();
    private readonly TestFunctionApp app = fixture.App;

    private async Task<HttpResponseMessage> DelegateAsync(Ed25519phKey signer, string providerKey, object body)
    {
        using var client = app.SignedBy(signer);
        return await client.PostAsJsonAsync($"api/v1/providers/{providerKey}/agent-delegations", body);
    }

    private async Task<HttpResponseMessage> AgentCallAsync(string path, Ed25519phKey signer, string? claimedAgent = null)
    {
        using var client = app.SignedBy(signer);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add(AgentCaller.AgentHeader, claimedAgent ?? signer.PublicKeyHex);
        return await client.SendAsync(request);
    }

    private object Delegation(params string[] permissions) =>
        new { agentPublicKey = agent.PublicKeyHex, permissions, expiresAt = DateTimeOffset.UtcNow.AddDays(30), label = "rack 1" };

    private static async Task<string> CheckOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("check").GetString()!;

    [Fact]
    public async Task An_agent_with_a_delegation_calls_the_endpoints_its_permissions_allow_and_no_others()
    {
        Assert.Equal(HttpStatusCode.OK, (await DelegateAsync(provider, provider.PublicKeyHex, Delegation("heartbeat", "health_check"))).StatusCode);

        var heartbeat = await AgentCallAsync("api/v1/test/agent/heartbeat", agent);
        var provision = await AgentCallAsync("api/v1/test/agent/provision", agent);

        Assert.Equal(HttpStatusCode.OK, heartbeat.StatusCode);
        Assert.Equal(new AgentSeen(agent.PublicKeyHex, provider.PublicKeyHex), await heartbeat.Content.ReadFromJsonAsync<AgentSeen>());
        Assert.Equal(HttpStatusCode.Forbidden, provision.StatusCode);
        Assert.Equal("permission", await CheckOf(provision));
    }

    [Fact]
    public async Task An_agent_without_a_delegation_or_with_a_revoked_one_is_refused()
    {
        var before = await AgentCallAsync("api/v1/test/agent/heartbeat", agent);
        await DelegateAsync(provider, provider.PublicKeyHex, Delegation("heartbeat"));
        using (var client = app.SignedBy(provider))
        {
            Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"api/v1/providers/{provider.PublicKeyHex}/agent-delegations/{agent.PublicKeyHex}")).StatusCode);
        }

        var after = await AgentCallAsync("api/v1/test/agent/heartbeat", agent);

        Assert.Equal(HttpStatusCode.Forbidden, before.StatusCode);
        Assert.Equal("noDelegation", await CheckOf(before));
        Assert.Equal(HttpStatusCode.Forbidden, after.StatusCode);
        Assert.Equal("revoked", await CheckOf(after));
    }

    [Fact]
    public async Task An_expired_delegation_is_refused()
    {
        var store = app.Services.GetRequiredService<DelegationStore>();
        await store.SaveAsync(new AgentDelegation { PartitionKey = agent.PublicKeyHex, ProviderKey = provider.PublicKeyHex, Permissions = "heartbeat", ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1), CreatedAt = DateTimeOffset.UtcNow.AddDays(-1) }, null, CancellationToken.None);

        var response = await AgentCallAsync("api/v1/test/agent/heartbeat", agent);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("expired", await CheckOf(response));
    }

    [Fact]
    public async Task The_agent_header_must_name_the_signer_and_the_signature_is_checked_first()
    {
        await DelegateAsync(provider, provider.PublicKeyHex, Delegation("heartbeat"));

        var mismatched = await AgentCallAsync("api/v1/test/agent/heartbeat", provider, claimedAgent: agent.PublicKeyHex);
        var unsigned = await app.Client.GetAsync("api/v1/test/agent/heartbeat");

        Assert.Equal(HttpStatusCode.Forbidden, mismatched.StatusCode);
        Assert.Equal("agentHeader", await CheckOf(mismatched));
        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
    }

    [Fact]
    public async Task Only_the_provider_manages_its_delegations_and_bad_ones_are_refused_with_field_errors()
    {
        var stranger = Ed25519phKey.Generate();

        var byStranger = await DelegateAsync(stranger, provider.PublicKeyHex, Delegation("heartbeat"));
        var unknownPermission = await DelegateAsync(provider, provider.PublicKeyHex, Delegation("reboot"));
        var ownKey = await DelegateAsync(provider, provider.PublicKeyHex, new { agentPublicKey = provider.PublicKeyHex, permissions = Heartbeat, expiresAt = DateTimeOffset.UtcNow.AddDays(1) });
        var past = await DelegateAsync(provider, provider.PublicKeyHex, new { agentPublicKey = agent.PublicKeyHex, permissions = Heartbeat, expiresAt = DateTimeOffset.UtcNow.AddDays(-1) });

        Assert.Equal(HttpStatusCode.Forbidden, byStranger.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, unknownPermission.StatusCode);
        Assert.True((await unknownPermission.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("permissions", out _));
        Assert.True((await ownKey.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("agentPublicKey", out _));
        Assert.True((await past.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("expiresAt", out _));
        Assert.Null(await app.Services.GetRequiredService<DelegationStore>().FindAsync(agent.PublicKeyHex, CancellationToken.None));

        using var client = app.SignedBy(provider);
        var listed = await client.GetFromJsonAsync<List<DelegationView>>($"api/v1/providers/{provider.PublicKeyHex}/agent-delegations");
        Assert.Empty(listed!);
    }

    [Fact]
    public async Task A_provider_lists_its_delegations_and_another_provider_cannot_take_its_agent()
    {
        var other = Ed25519phKey.Generate();
        await DelegateAsync(provider, provider.PublicKeyHex, Delegation("heartbeat", "fetch_contracts"));

        var taken = await DelegateAsync(other, other.PublicKeyHex, Delegation("heartbeat"));
        using var client = app.SignedBy(provider);
        var listed = await client.GetFromJsonAsync<List<DelegationView>>($"api/v1/providers/{provider.PublicKeyHex}/agent-delegations");

        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
        var only = Assert.Single(listed!);
        Assert.Equal(agent.PublicKeyHex, only.AgentPublicKey);
        Assert.Equal(["heartbeat", "fetch_contracts"], only.Permissions);
        Assert.Equal("rack 1", only.Label);
        Assert.Null(only.RevokedAt);
    }
}
