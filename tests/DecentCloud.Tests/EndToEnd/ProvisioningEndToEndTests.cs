using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Azure;
using Azure.Data.Tables;
using DecentCloud.Agent.State;
using DecentCloud.Functions.Billing;
using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Provisioning;
using DecentCloud.Functions.Provisioning.Health;
using DecentCloud.Functions.Provisioning.Views;
using DecentCloud.Shared.Sealing;
using DecentCloud.Tests.Support;
using Microsoft.DurableTask.Client;
using Xunit.Abstractions;

namespace DecentCloud.Tests.EndToEnd;

/// <summary>
/// Issue 11's "done means" end to end: the app (local host, worker, Azurite, the Stripe stand-in) and real dc-agent
/// processes (<c>dotnet dc-agent.dll run</c>, and <c>manual complete</c> / <c>manual terminated</c> as the provider runs
/// them). Each test has its own provider, renter and agents; the app is shared by the class.
/// </summary>
public sealed class ProvisioningEndToEndTests(EndToEndFixture fixture, ITestOutputHelper output) : IClassFixture<EndToEndFixture>
{
    private const int TermLeftSeconds = 35;
    private static readonly TimeSpan AgentWait = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task A_rented_paid_accepted_contract_is_provisioned_by_the_agent_read_by_the_renter_active_on_health_and_expired_and_terminated_at_its_end()
    {
        var world = await new EndToEndWorld(fixture).OpenAsync();
        using var home = await world.AgentAsync();
        await using var agent = AgentProcess.Run(home, "agent", output);
        var contract = await world.RentPaidAndAcceptedAsync(hours: 1);
        var id = contract.Id;

        // The agent polls, locks the contract, records it and tells the provider (the notify command).
        await Eventually.HoldsAsync(() => home.Notified().Contains($"provision {id}"), "the provider is notified of the new contract", AgentWait);
        Assert.Equal(home.Key.PublicKeyHex, (await world.Provisioning.LockAsync(id, CancellationToken.None))!.AgentKey);
        await world.StateAsync(id, ContractState.Provisioning);
        await Eventually.HoldsAsync(() => home.PhaseOf(id) == ContractPhase.Waiting, "the agent waits for the operator");

        // The operator made a server; it does not answer on its SSH port yet, so no health check can be healthy.
        var port = FreePort();
        var passwordFile = Path.Combine(home.Directory, "password.txt");
        await File.WriteAllTextAsync(passwordFile, "correct horse battery staple\n");
        var completed = await AgentProcess.SucceedAsync(home, "manual", "complete", id, "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--user", "root", "--password-file", passwordFile);
        Assert.DoesNotContain("correct horse", completed.Stdout + completed.Stderr, StringComparison.Ordinal);
        await world.StateAsync(id, ContractState.Provisioned);
        Assert.Equal(1, await world.ReportsAsync(id, "provisioned"));

        // The renter reads the sealed credentials and opens them with their own secret key; the provider cannot read them.
        using var renter = world.App.SignedBy(world.Renter);
        var credentials = (await renter.GetFromJsonAsync<CredentialsView>($"api/v1/contracts/{id}/credentials"))!;
        Assert.Equal(("127.0.0.1", port, "root", $"manual-{id}"), (credentials.Ipv4, credentials.SshPort, credentials.SshUser, credentials.ExternalId));
        var sealedBlob = new SealedCredentials(credentials.Version, credentials.EphemeralPubkey, credentials.Nonce, credentials.Ciphertext, credentials.Aad);
        Assert.Equal("correct horse battery staple", CredentialSealer.Open(sealedBlob, Convert.FromHexString(world.Renter.ExportSeedHex()), id));
        using (var provider = world.App.SignedBy(world.Provider))
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await provider.GetAsync($"api/v1/contracts/{id}/credentials")).StatusCode);
        }

        // The term is one hour, the shortest an offering allows. The test moves the contract's history back so that the
        // term ends 35 s from now (the orchestration sets its term timer from the history once the contract is active;
        // it is not active before the first healthy report, which cannot come while the server does not answer). The
        // agent's health checks run every 30 s, so the contract is active before its term ends.
        await ShiftHistoryAsync(world, id, TimeSpan.FromSeconds(TermLeftSeconds) - TimeSpan.FromHours(1));

        // The server answers now. The platform probes it (the contract is provisioned or active: in service)...
        using var server = new TcpListener(IPAddress.Loopback, port);
        server.Start();
        await world.App.RunAsync(nameof(ProbeContracts));
        var health = world.App.Services.GetRequiredService<HealthStore>();
        await Eventually.HoldsAsync(async () => (await health.ProbesAsync(id, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None)).Any(p => p.Up),
            "the platform probed the running instance");

        // ...and the agent's next health check is healthy: the contract is active.
        await Eventually.HoldsAsync(async () => (await MovesAsync(world, id)).Any(m => m.From == ContractState.Provisioned.Name() && m.To == ContractState.Active.Name()),
            "the first healthy report made the contract active", TimeSpan.FromSeconds(EndToEndFixture.HealthCheckSeconds + 15));
        var contractHealth = (await renter.GetFromJsonAsync<ContractHealthView>($"api/v1/contracts/{id}/health"))!;
        Assert.Contains(contractHealth.Checks, c => c.Status == "healthy");

        // The uptime shows the platform's probe and the agent's reports, with the number of checks behind each.
        var uptime = (await world.App.Client.GetFromJsonAsync<ProviderUptimeView>($"api/v1/providers/{world.Provider.PublicKeyHex}/uptime?days=30"))!;
        var ofContract = Assert.Single(uptime.Contracts, c => c.ContractId == id);
        Assert.Equal((1, 1, (double?)100), (ofContract.Probes.Checks, ofContract.Probes.Up, ofContract.Probes.UptimePercent));
        Assert.True(ofContract.AgentReports.Healthy >= 1, $"agent reports: {ofContract.AgentReports}");
        Assert.Equal((1, 1), (uptime.Probes.Checks, uptime.Probes.Up));

        // The term ended: expired, and the agent is told to terminate the instance; the operator confirms it.
        await world.StateAsync(id, ContractState.Expired);
        await Eventually.HoldsAsync(() => home.Notified().Contains($"terminate {id}"), "the provider is told to remove the server", AgentWait);
        await AgentProcess.SucceedAsync(home, "manual", "terminated", id, "--message", "server deleted");
        await Eventually.HoldsAsync(async () => await world.Provisioning.TerminatedAsync(id, CancellationToken.None) is not null, "the termination is recorded");
        await Eventually.HoldsAsync(() => home.PhaseOf(id) is null, "the agent forgot the contract");
        await Eventually.HoldsAsync(async () => await world.App.Orchestrations.GetInstanceAsync(ContractLifecycleEvents.InstanceId(id)) is { RuntimeStatus: OrchestrationRuntimeStatus.Completed },
            "the contract's orchestration ended with the termination");

        // One lock holder, one server, one notification of each kind; a term served in full owes nothing back.
        Assert.Equal([$"provision {id}", $"terminate {id}"], home.Notified());
        Assert.Equal(1, await world.ReportsAsync(id, "provisioned"));
        Assert.Empty(await world.App.Services.GetRequiredService<ContractRows>().ListAsync<RefundOwedEntity>(id, RefundOwedEntity.RowKeyPrefix, CancellationToken.None));
        Assert.Equal(ContractState.Expired.Name(), (await world.ContractAsync(id)).State);
        Assert.Equal(0, await agent.StopAsync());
    }

    [Fact]
    public async Task An_agent_killed_between_lock_and_report_and_started_again_provisions_the_contract_once()
    {
        var world = await new EndToEndWorld(fixture).OpenAsync();
        using var home = await world.AgentAsync();
        var contract = await world.RentPaidAndAcceptedAsync();
        var id = contract.Id;

        var first = AgentProcess.Run(home, "agent (killed)", output);
        await using (first)
        {
            await Eventually.HoldsAsync(() => home.PhaseOf(id) == ContractPhase.Waiting, "the agent locked the contract and waits for the operator", AgentWait);
            await first.KillAsync();
        }

        var lease = (await world.Provisioning.LockAsync(id, CancellationToken.None))!;
        await using var second = AgentProcess.Run(home, "agent (restarted)", output);
        // The restarted agent renews its own lock on its first polls; it does not lock it anew or notify again.
        await Eventually.HoldsAsync(async () => (await world.Provisioning.LockAsync(id, CancellationToken.None))!.ExpiresAt > lease.ExpiresAt,
            "the restarted agent renewed its lock", AgentWait);
        var port = FreePort();
        using var server = new TcpListener(IPAddress.Loopback, port);
        server.Start();
        var passwordFile = Path.Combine(home.Directory, "password.txt");
        await File.WriteAllTextAsync(passwordFile, "s3cret");
        await AgentProcess.SucceedAsync(home, "manual", "complete", id, "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--user", "root", "--password-file", passwordFile);
        await Eventually.HoldsAsync(() => home.PhaseOf(id) == ContractPhase.Provisioned, "the agent recorded the contract provisioned");
        await world.StateAsync(id, ContractState.Provisioned);

        // Two more polls of the restarted agent: nothing is provisioned or reported again.
        var polls = second.Lines.Count(l => l.Contains("to provision", StringComparison.Ordinal));
        await Eventually.HoldsAsync(() => second.Lines.Count(l => l.Contains("to provision", StringComparison.Ordinal)) >= polls + 2, "the restarted agent polled twice more", AgentWait);
        Assert.Equal([$"provision {id}"], home.Notified());
        Assert.Equal(1, await world.ReportsAsync(id, "provisioning"));
        Assert.Equal(1, await world.ReportsAsync(id, "provisioned"));
        Assert.Equal($"manual-{id}", (await world.Provisioning.InstanceAsync(id, CancellationToken.None))!.ExternalId);
        Assert.Equal(home.Key.PublicKeyHex, lease.AgentKey);
    }

    [Fact]
    public async Task Two_agents_of_one_provider_share_several_contracts_and_each_contract_is_provisioned_once()
    {
        var world = await new EndToEndWorld(fixture).OpenAsync();
        using var homeA = await world.AgentAsync("agent-a");
        using var homeB = await world.AgentAsync("agent-b");
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add((await world.RentPaidAndAcceptedAsync()).Id);
        }

        await using var agentA = AgentProcess.Run(homeA, "agent A", output);
        await using var agentB = AgentProcess.Run(homeB, "agent B", output);
        AgentHome? HolderOf(string id) =>
            homeA.Notified().Contains($"provision {id}") ? homeA : homeB.Notified().Contains($"provision {id}") ? homeB : null;
        await Eventually.HoldsAsync(() => ids.All(id => HolderOf(id) is not null), "every contract was taken by an agent", AgentWait);

        var port = FreePort();
        using var server = new TcpListener(IPAddress.Loopback, port);
        server.Start();
        var passwordFile = Path.Combine(homeA.Directory, "password.txt");
        await File.WriteAllTextAsync(passwordFile, "s3cret");
        foreach (var id in ids)
        {
            var holder = HolderOf(id)!;
            Assert.Equal(holder.Key.PublicKeyHex, (await world.Provisioning.LockAsync(id, CancellationToken.None))!.AgentKey);
            await AgentProcess.SucceedAsync(holder, "manual", "complete", id, "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--user", "root", "--password-file", passwordFile);
        }

        foreach (var id in ids)
        {
            await world.StateAsync(id, ContractState.Provisioned);
        }

        // A few more polls of both agents: no contract is taken by the other agent, or provisioned twice.
        var polled = (agentA.Lines.Count, agentB.Lines.Count);
        await Eventually.HoldsAsync(() => agentA.Lines.Count > polled.Item1 + 2 && agentB.Lines.Count > polled.Item2 + 2, "both agents carried on", AgentWait);
        var notified = homeA.Notified().Concat(homeB.Notified()).ToList();
        Assert.Equal(ids.Order().Select(id => $"provision {id}"), notified.Order());
        foreach (var id in ids)
        {
            Assert.Equal(1, await world.ReportsAsync(id, "provisioning"));
            Assert.Equal(1, await world.ReportsAsync(id, "provisioned"));
            var holder = HolderOf(id)!;
            var other = holder == homeA ? homeB : homeA;
            Assert.Equal(ContractPhase.Provisioned, holder.PhaseOf(id));
            Assert.Null(other.PhaseOf(id));
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task<List<ContractMoveEntity>> MovesAsync(EndToEndWorld world, string id) =>
        await world.Contracts.MovesAsync(id, CancellationToken.None);

    /// <summary>Moves every recorded state change of the contract by <paramref name="by"/>, as if it had all happened that much earlier.</summary>
    private static async Task ShiftHistoryAsync(EndToEndWorld world, string id, TimeSpan by)
    {
        foreach (var move in await MovesAsync(world, id))
        {
            move.At += by;
            await world.Contracts.Table.UpdateEntityAsync(move, ETag.All, TableUpdateMode.Replace);
        }
    }
}
