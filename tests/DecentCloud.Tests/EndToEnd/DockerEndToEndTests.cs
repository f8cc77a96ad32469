using System.Net.Http.Json;
using Azure;
using Azure.Data.Tables;
using DecentCloud.Agent.Provisioners.Docker;
using DecentCloud.Agent.State;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Provisioning;
using DecentCloud.Functions.Provisioning.Views;
using DecentCloud.Shared.Sealing;
using DecentCloud.Tests.Agent.Docker;
using DecentCloud.Tests.Support;
using Microsoft.DurableTask.Client;
using Xunit.Abstractions;

namespace DecentCloud.Tests.EndToEnd;

/// <summary>
/// Issue 12's end to end: the app (local host, worker, Azurite, the Stripe stand-in) and a real dc-agent process with
/// the Docker provisioner, talking to the Docker stand-in over its Unix socket as it would to /var/run/docker.sock. A
/// contract goes from payment to a running container, active on the agent's health reports, expired at the end of its
/// term and its container removed; the renter opens the sealed credentials and finds the password the container got.
/// </summary>
public sealed class DockerEndToEndTests(EndToEndFixture fixture, ITestOutputHelper output) : IClassFixture<EndToEndFixture>
{
    private const string Image = "ghcr.io/example/ubuntu-ssh:24.04";
    private const int TermLeftSeconds = 35;
    private static readonly TimeSpan AgentWait = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task A_paid_contract_runs_as_a_container_whose_password_only_the_renter_opens_is_active_on_health_and_removed_when_it_expires()
    {
        var world = await new EndToEndWorld(fixture).OpenAsync();
        await using var docker = await DockerStandIn.StartAsync();
        // The image has a HEALTHCHECK, still starting when the container is up: the agent reports it unknown, not healthy.
        docker.AddImage(Image, healthcheck: "starting");
        using var home = AgentHome.Create(world.ApiBaseUrl, world.Provider.PublicKeyHex, "docker-agent", $$"""

            [docker]
            endpoint = "{{docker.Endpoint}}"
            public_host = "127.0.0.1"
            ssh_port_range = "30000-30099"
            pull_timeout_seconds = 60
            request_timeout_seconds = 10

            [docker.offerings."{{world.OfferingId}}"]
            image = "{{Image}}"
            cpus = 2
            memory_mb = 4096
            ssh_user = "root"

            """);
        await world.DelegateAsync(home.Key.PublicKeyHex, "docker-agent");
        await using var agent = AgentProcess.Run(home, "docker agent", output);

        var contract = await world.RentPaidAndAcceptedAsync(hours: 1);
        var id = contract.Id;
        Assert.True((await world.ContractAsync(id)).PaymentSucceeded, "paid through Stripe with 19 % VAT");

        // The agent locks the contract, pulls the image and runs the container, and reports it with sealed credentials.
        await world.StateAsync(id, ContractState.Provisioned, AgentWait);
        await Eventually.HoldsAsync(() => home.PhaseOf(id) == ContractPhase.Provisioned, "the agent recorded the contract provisioned", AgentWait);
        var container = Assert.Single(docker.Containers);
        Assert.True(container.Running);
        Assert.Equal(id, container.Labels[DockerProvisioner.ContractLabel]);
        Assert.Equal(2_000_000_000, container.CreateBody["HostConfig"]!["NanoCpus"]!.GetValue<long>());
        Assert.Equal(4096L * 1024 * 1024, container.CreateBody["HostConfig"]!["Memory"]!.GetValue<long>());
        Assert.Equal(EndToEndWorld.SshKey, container.EnvValue("DC_SSH_AUTHORIZED_KEYS"));
        var password = container.EnvValue("DC_SSH_PASSWORD")!;
        Assert.Equal(24, password.Length);

        // The renter reads the sealed credentials and opens them with their own key: the password the container was given.
        using var renter = world.App.SignedBy(world.Renter);
        var credentials = (await renter.GetFromJsonAsync<CredentialsView>($"api/v1/contracts/{id}/credentials"))!;
        Assert.Equal(("127.0.0.1", container.HostPort!.Value, "root", container.Id), (credentials.Ipv4, credentials.SshPort, credentials.SshUser, credentials.ExternalId));
        var sealedBlob = new SealedCredentials(credentials.Version, credentials.EphemeralPubkey, credentials.Nonce, credentials.Ciphertext, credentials.Aad);
        Assert.Equal(password, CredentialSealer.Open(sealedBlob, Convert.FromHexString(world.Renter.ExportSeedHex()), id));
        Assert.DoesNotContain(password, File.ReadAllText(home.StateFile), StringComparison.Ordinal);

        // The term ends 35 s from now (as in ProvisioningEndToEndTests: the term timer is set from the history once the
        // contract is active, and it is not active before a healthy report, which cannot come while the HEALTHCHECK is
        // starting). Then the HEALTHCHECK passes; the agent's next health check (every 30 s) is healthy: active.
        await ShiftHistoryAsync(world, id, TimeSpan.FromSeconds(TermLeftSeconds) - TimeSpan.FromHours(1));
        Assert.Equal(ContractState.Provisioned.Name(), (await world.ContractAsync(id)).State);
        docker.SetHealth(container.Id, "healthy");
        await Eventually.HoldsAsync(async () => (await world.Contracts.MovesAsync(id, CancellationToken.None)).Any(m => m.From == ContractState.Provisioned.Name() && m.To == ContractState.Active.Name()),
            "the first healthy report made the contract active", TimeSpan.FromSeconds(EndToEndFixture.HealthCheckSeconds + 15));
        var health = (await renter.GetFromJsonAsync<ContractHealthView>($"api/v1/contracts/{id}/health"))!;
        Assert.Contains(health.Checks, c => c.Status == "healthy");

        // The term ended: expired, and the agent removes the container and reports the termination.
        await world.StateAsync(id, ContractState.Expired, AgentWait);
        await Eventually.HoldsAsync(() => docker.Containers.Count == 0, "the agent removed the container", AgentWait);
        await Eventually.HoldsAsync(async () => await world.Provisioning.TerminatedAsync(id, CancellationToken.None) is not null, "the termination is recorded", AgentWait);
        await Eventually.HoldsAsync(() => home.PhaseOf(id) is null, "the agent forgot the contract", AgentWait);
        await Eventually.HoldsAsync(async () => await world.App.Orchestrations.GetInstanceAsync(ContractLifecycleEvents.InstanceId(id)) is { RuntimeStatus: OrchestrationRuntimeStatus.Completed },
            "the contract's orchestration ended with the termination", AgentWait);

        // One container made, one report; every call the agent made met the Engine API's spec; no password in its log.
        Assert.Single(docker.CallsTo("POST /containers/create"));
        Assert.Equal(1, await world.ReportsAsync(id, "provisioned"));
        Assert.Empty(docker.Violations);
        Assert.Equal(0, await agent.StopAsync());
        Assert.DoesNotContain(agent.Lines, line => line.Contains(password, StringComparison.Ordinal));
    }

    /// <summary>Moves every recorded state change of the contract by <paramref name="by"/>, as if it had all happened that much earlier.</summary>
    private static async Task ShiftHistoryAsync(EndToEndWorld world, string id, TimeSpan by)
    {
        foreach (var move in await world.Contracts.MovesAsync(id, CancellationToken.None))
        {
            move.At += by;
            await world.Contracts.Table.UpdateEntityAsync(move, ETag.All, TableUpdateMode.Replace);
        }
    }
}
