using System.Text.Json;
using DecentCloud.Agent.Api;
using DecentCloud.Agent.Provisioners;
using DecentCloud.Agent.State;

namespace DecentCloud.Tests.Agent;

public sealed class ProvisionerSetTests
{
    private static readonly Work DockerWork = new("c-1", "small-container", "ab", null, 24, "accepted", DateTimeOffset.UnixEpoch);
    private static readonly Work OtherWork = new("c-2", "big-vm", "ab", null, 24, "accepted", DateTimeOffset.UnixEpoch);
    private static readonly Work NoOfferingWork = new("c-3", null, "ab", null, 24, "accepted", DateTimeOffset.UnixEpoch);

    [Fact]
    public void Work_goes_to_the_provisioner_naming_its_offering_and_the_rest_to_the_default()
    {
        var manual = new Named("manual");
        var docker = new Named("docker");
        var set = new ProvisionerSet(manual, [manual, docker], new Dictionary<string, string> { ["small-container"] = "docker" });

        Assert.Same(docker, set.ForWork(DockerWork));
        Assert.Same(manual, set.ForWork(OtherWork));
        Assert.Same(manual, set.ForWork(NoOfferingWork));
        Assert.Equal("manual,docker", set.Names);
    }

    [Fact]
    public async Task A_contract_stays_with_the_provisioner_recorded_when_it_was_locked()
    {
        var manual = new Named("manual");
        var docker = new Named("docker");
        var set = new ProvisionerSet(manual, [manual, docker], new Dictionary<string, string>());
        var record = new ContractRecord { ContractId = "c-1", RenterPubkey = "ab", Phase = ContractPhase.Provisioned, UpdatedAt = DateTimeOffset.UnixEpoch, Provisioner = "docker" };

        Assert.Same(docker, set.ForRecord(record));
        Assert.Same(docker, await set.ForContractAsync("c-1", record, CancellationToken.None));
        // A record written before provisioners were recorded belongs to the Manual one, the only one there was.
        Assert.Same(manual, set.ForRecord(record with { Provisioner = null }));
    }

    [Fact]
    public async Task A_contract_the_state_file_lost_goes_to_the_provisioner_whose_infrastructure_has_it()
    {
        var manual = new Named("manual");
        var docker = new Named("docker", has: "c-9");
        var set = new ProvisionerSet(manual, [manual, docker], new Dictionary<string, string>());

        Assert.Same(docker, await set.ForContractAsync("c-9", record: null, CancellationToken.None));
        Assert.Same(manual, await set.ForContractAsync("c-10", record: null, CancellationToken.None));
    }

    [Fact]
    public void An_offering_mapped_to_a_provisioner_not_in_use_is_refused()
    {
        var manual = new Named("manual");

        var refused = Assert.Throws<ArgumentException>(() => new ProvisionerSet(manual, [manual], new Dictionary<string, string> { ["x"] = "docker" }));

        Assert.Contains("'x'", refused.Message, StringComparison.Ordinal);
    }

    private sealed class Named(string name, string? has = null) : IProvisioner
    {
        public string Name => name;

        public IReadOnlyList<string> Capabilities => [name];

        public Task<ProvisionOutcome> ProvisionAsync(Work work, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<TerminateOutcome> TerminateAsync(string contractId, string? externalId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<StopOutcome> StopAsync(string contractId, string? externalId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<HealthResult> CheckHealthAsync(InstanceReport instance, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<RunningInstance?> GetAsync(string contractId, CancellationToken cancellationToken) =>
            Task.FromResult(contractId == has ? new RunningInstance($"{name}-{contractId}", contractId) : null);

        public Task<IReadOnlyList<RunningInstance>> ListRunningAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<SetupCheck>> VerifySetupAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<JsonElement?> CollectResourcesAsync(CancellationToken cancellationToken) => Task.FromResult<JsonElement?>(null);
    }
}
