using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Provisioning.Health;
using DecentCloud.Functions.Provisioning.Views;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.ProvisioningApi;

/// <summary>The platform's probes of running instances and the uptime figures computed from the rows.</summary>
public sealed class UptimeTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private readonly ProvisioningWorld world = new(fixture);

    [Fact]
    public async Task The_probe_timer_connects_to_each_running_instances_ssh_port_and_records_up_and_down()
    {
        var agent = await world.AgentAsync();
        using var listening = new TcpListener(IPAddress.Loopback, 0);
        listening.Start();
        var openPort = ((IPEndPoint)listening.LocalEndpoint).Port;
        var closedPort = FreePort();
        var up = await world.ContractAsync();
        var down = await world.ContractAsync();
        var waiting = await world.ContractAsync();
        await world.ProvisionAsync(agent, up.PartitionKey, ProvisioningWorld.Instance(up.PartitionKey, "127.0.0.1", openPort, "vm-up"));
        await world.ProvisionAsync(agent, down.PartitionKey, ProvisioningWorld.Instance(down.PartitionKey, "127.0.0.1", closedPort, "vm-down"));
        await world.ProvisionAsync(agent, waiting.PartitionKey, ProvisioningWorld.Instance(waiting.PartitionKey, "127.0.0.1", openPort, "vm-waiting"));
        await world.SetStateAsync(up.PartitionKey, ContractState.Active);
        await world.SetStateAsync(down.PartitionKey, ContractState.Provisioned);

        await world.App.RunAsync(nameof(ProbeContracts));

        List<ProbeRow> Probes(string id) => world.Health.ProbesAsync(id, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow, CancellationToken.None).Result;
        await Eventually.HoldsAsync(() => Probes(up.PartitionKey).Count == 1 && Probes(down.PartitionKey).Count == 1, "both running instances were probed");
        var upProbe = Probes(up.PartitionKey).Single();
        var downProbe = Probes(down.PartitionKey).Single();
        Assert.True(upProbe.Up);
        Assert.Equal($"127.0.0.1:{openPort}", upProbe.Target);
        Assert.Null(upProbe.Error);
        Assert.False(downProbe.Up);
        Assert.Equal("ConnectionRefused", downProbe.Error);
        Assert.Equal(world.Provider.PublicKeyHex, downProbe.ProviderKey);
        Assert.Empty(Probes(waiting.PartitionKey));
    }

    [Fact]
    public async Task Uptime_is_computed_from_the_platforms_probes_with_the_agents_reports_beside_and_the_check_counts()
    {
        var agent = await world.AgentAsync();
        var first = await world.ContractAsync();
        var second = await world.ContractAsync();
        await world.ProvisionAsync(agent, first.PartitionKey, ProvisioningWorld.Instance(first.PartitionKey, externalId: "vm-a"));
        await world.ProvisionAsync(agent, second.PartitionKey, ProvisioningWorld.Instance(second.PartitionKey, externalId: "vm-b"));
        var now = DateTimeOffset.UtcNow;
        await ProbesAsync(first.PartitionKey, (now.AddMinutes(-5), true), (now.AddMinutes(-10), true), (now.AddDays(-2), true), (now.AddDays(-3), false));
        await ProbesAsync(second.PartitionKey, (now.AddMinutes(-5), false), (now.AddDays(-40), false));
        await ReportsAsync(first.PartitionKey, (now.AddMinutes(-3), "healthy"), (now.AddMinutes(-8), "healthy"), (now.AddDays(-1), "unhealthy"), (now.AddDays(-1), "unknown"));

        var month = await world.App.Client.GetFromJsonAsync<ProviderUptimeView>(world.Path("uptime"));
        var day = await world.App.Client.GetFromJsonAsync<ProviderUptimeView>(world.Path("uptime?days=1"));
        var tooMany = await world.App.Client.GetAsync(world.Path("uptime?days=91"));
        var none = await world.App.Client.GetAsync(world.Path("uptime?days=0"));
        var notANumber = await world.App.Client.GetAsync(world.Path("uptime?days=a"));

        Assert.Equal(30, month!.Days);
        Assert.Equal(new ProbeFigures(5, 3, 60, 0), month.Probes);
        Assert.Equal(new ReportFigures(3, 2, 1, 66.67), month.AgentReports);
        Assert.Equal(new ProbeFigures(4, 3, 75, 0), month.Contracts.Single(c => c.ContractId == first.PartitionKey).Probes);
        Assert.Equal(new ProbeFigures(1, 0, 0, 0), month.Contracts.Single(c => c.ContractId == second.PartitionKey).Probes);
        Assert.Equal(new ReportFigures(0, 0, 0, null), month.Contracts.Single(c => c.ContractId == second.PartitionKey).AgentReports);
        Assert.Equal(new ProbeFigures(3, 2, 66.67, 0), day!.Probes);
        Assert.Equal(new ReportFigures(2, 2, 0, 100), day.AgentReports);
        await ApiAssert.ProblemAsync(tooMany, HttpStatusCode.BadRequest);
        await ApiAssert.ProblemAsync(none, HttpStatusCode.BadRequest);
        await ApiAssert.ProblemAsync(notANumber, HttpStatusCode.BadRequest);
    }

    private async Task ProbesAsync(string contractId, params (DateTimeOffset At, bool Up)[] probes)
    {
        foreach (var (at, up) in probes)
        {
            await world.Health.AddProbeAsync(new ProbeRow
            {
                PartitionKey = $"{contractId}:{at.UtcDateTime:yyyyMMdd}",
                RowKey = (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", System.Globalization.CultureInfo.InvariantCulture),
                ContractId = contractId,
                ProviderKey = world.Provider.PublicKeyHex,
                Target = "203.0.113.10:22",
                Up = up,
                LatencyMs = 3,
                Error = up ? null : "timeout",
                At = at,
            }, CancellationToken.None);
        }
    }

    private async Task ReportsAsync(string contractId, params (DateTimeOffset At, string Status)[] reports)
    {
        foreach (var (at, status) in reports)
        {
            await world.Health.AddReportAsync(new HealthReportRow
            {
                PartitionKey = $"{contractId}:{at.UtcDateTime:yyyyMMdd}",
                RowKey = Guid.NewGuid().ToString("N"),
                ContractId = contractId,
                ProviderKey = world.Provider.PublicKeyHex,
                Status = status,
                CheckedAt = at,
                ReceivedAt = at,
            }, CancellationToken.None);
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
