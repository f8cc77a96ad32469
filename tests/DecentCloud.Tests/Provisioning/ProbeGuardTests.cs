using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Provisioning;
using DecentCloud.Functions.Provisioning.Health;
using DecentCloud.Functions.Provisioning.Views;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.ProvisioningApi;

/// <summary>The app as in Azure: <c>PROBE_ALLOW_PRIVATE_ADDRESSES</c> off, so no instance address that is not public is stored or probed.</summary>
public sealed class PrivateAddressesRefusedFixture : AppFixture
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["PROBE_ALLOW_PRIVATE_ADDRESSES"] = "false" };
}

/// <summary>
/// A provider cannot make the platform connect inside its own network: a report naming an address that is not public is
/// refused, and the probe does not connect to one it finds recorded (from before, or behind a host name).
/// </summary>
public sealed class ProbeGuardTests(PrivateAddressesRefusedFixture fixture) : IClassFixture<PrivateAddressesRefusedFixture>
{
    private readonly ProvisioningWorld world = new(fixture);

    [Theory]
    [InlineData("ipv4", "127.0.0.1")]
    [InlineData("ipv4", "169.254.169.254")]
    [InlineData("ipv4", "10.0.0.5")]
    [InlineData("ipv4", "100.64.1.1")]
    [InlineData("ipv6", "::1")]
    [InlineData("ipv6", "fd00::5")]
    [InlineData("ipv6", "::ffff:192.168.0.1")]
    [InlineData("hostname", "localhost")]
    [InlineData("hostname", "metadata.google.internal")]
    [InlineData("hostname", "172.17.0.1")]
    public async Task A_provisioned_report_naming_an_address_that_is_not_public_is_refused_and_records_nothing(string field, string address)
    {
        var agent = await world.AgentAsync();
        var contract = await world.ContractAsync();
        var id = contract.PartitionKey;
        Assert.Equal(HttpStatusCode.OK, (await world.AsAgentAsync(agent, HttpMethod.Post, world.Path($"contracts/{id}/lock"), new { })).StatusCode);
        var instance = ProvisioningWorld.Instance(id, ipv4: "8.8.8.8");
        instance[field] = address;
        var before = await world.SnapshotAsync();

        var reported = await world.AsAgentAsync(agent, HttpMethod.Post, world.Path($"contracts/{id}/provisioning"), new { status = "provisioned", instance });

        var problem = await ApiAssert.ProblemAsync(reported, HttpStatusCode.BadRequest);
        Assert.Contains("not a public", problem.GetProperty("errors").GetProperty($"instance.{field}")[0].GetString(), StringComparison.Ordinal);
        Assert.Empty((await world.SnapshotAsync()).ChangesSince(before));
        Assert.Null(await world.Provisioning.InstanceAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task A_provisioned_report_with_public_addresses_is_accepted()
    {
        var agent = await world.AgentAsync();
        var contract = await world.ContractAsync();
        var instance = ProvisioningWorld.Instance(contract.PartitionKey, ipv4: "8.8.8.8");
        instance["ipv6"] = "2606:4700:4700::1111";
        instance["hostname"] = "vm-1.provider.example.net";

        await world.ProvisionAsync(agent, contract.PartitionKey, instance);

        Assert.Equal("8.8.8.8", (await world.Provisioning.InstanceAsync(contract.PartitionKey, CancellationToken.None))!.Ipv4);
    }

    [Fact]
    public async Task The_probe_does_not_connect_to_a_recorded_private_address_and_records_it_refused_not_down()
    {
        var agent = await world.AgentAsync();
        using var listening = new TcpListener(IPAddress.Loopback, 0);
        listening.Start();
        var port = ((IPEndPoint)listening.LocalEndpoint).Port;
        var byAddress = await RecordedRunningAsync(agent, ipv4: "127.0.0.1", hostname: null, port);
        var byName = await RecordedRunningAsync(agent, ipv4: null, hostname: "localhost", port);

        await world.App.RunAsync(nameof(ProbeContracts));

        List<ProbeRow> Probes(string id) => world.Health.ProbesAsync(id, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow, CancellationToken.None).Result;
        await Eventually.HoldsAsync(() => Probes(byAddress).Count == 1 && Probes(byName).Count == 1, "both instances had their probe");

        // A connection completes its handshake into the listener's backlog before the probe's row is written.
        Assert.False(listening.Pending(), "the probe connected to the private address");
        foreach (var probe in new[] { Probes(byAddress).Single(), Probes(byName).Single() })
        {
            Assert.False(probe.Up);
            Assert.Null(probe.Error);
            Assert.Matches("^(127\\.0\\.0\\.1|::1) is not a public address \\(loopback\\)$", probe.Refused);
        }

        Assert.Equal($"localhost:{port}", Probes(byName).Single().Target);
        var uptime = await world.App.Client.GetFromJsonAsync<ProviderUptimeView>(world.Path("uptime"));
        Assert.Equal(new ProbeFigures(0, 0, null, 2), uptime!.Probes);
        using var renter = world.App.SignedBy(world.Renter);
        var health = await renter.GetFromJsonAsync<JsonElement>($"api/v1/contracts/{byAddress}/health");
        Assert.Equal("127.0.0.1 is not a public address (loopback)", health.GetProperty("probes")[0].GetProperty("refused").GetString());
        Assert.Contains(world.App.Logs.Entries, e => e.EventId.Id == 10512 && e.Message.Contains(byAddress, StringComparison.Ordinal));
    }

    /// <summary>
    /// An instance recorded with a private address as a report under <c>PROBE_ALLOW_PRIVATE_ADDRESSES</c> would have left
    /// it (the row written through the store, past the report's check), running.
    /// </summary>
    private async Task<string> RecordedRunningAsync(DecentCloud.Shared.Signing.Ed25519phKey agent, string? ipv4, string? hostname, int port)
    {
        var contract = await world.ContractAsync();
        var id = contract.PartitionKey;
        Assert.Equal(HttpStatusCode.OK, (await world.AsAgentAsync(agent, HttpMethod.Post, world.Path($"contracts/{id}/lock"), new { })).StatusCode);
        var lease = (await world.Provisioning.LockAsync(id, CancellationToken.None))!;
        var now = DateTimeOffset.UtcNow;
        var sealedBlob = ProvisioningWorld.Sealed(id);
        var instance = new InstanceRow
        {
            PartitionKey = id,
            ExternalId = $"vm-{id}",
            Ipv4 = ipv4,
            Hostname = hostname,
            SshPort = port,
            SealedVersion = 2,
            SealedEphemeralPubkey = (string)sealedBlob["ephemeralPubkey"]!,
            SealedNonce = (string)sealedBlob["nonce"]!,
            SealedCiphertext = (string)sealedBlob["ciphertext"]!,
            SealedAad = (string)sealedBlob["aad"]!,
            AgentKey = agent.PublicKeyHex,
            RecordedAt = now,
        };
        var report = new ProvisioningReportRow { PartitionKey = id, RowKey = ProvisioningReportRow.RowKeyFor(now), Status = "provisioned", AgentKey = agent.PublicKeyHex, At = now };
        Assert.True(await world.Provisioning.TryRecordReportAsync(lease, report, instance, world.Provider.PublicKeyHex, CancellationToken.None));
        await world.SetStateAsync(id, ContractState.Active);
        return id;
    }
}
