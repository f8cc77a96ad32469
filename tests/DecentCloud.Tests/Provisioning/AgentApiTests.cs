using System.Net;
using System.Net.Http.Json;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Provisioning.Agents;
using DecentCloud.Functions.Provisioning.Health;
using DecentCloud.Functions.Provisioning.Views;
using DecentCloud.Shared.Signing;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.ProvisioningApi;

/// <summary>The agent API through the app: each route's happy path, and refusals that change nothing.</summary>
public sealed class AgentApiTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private static readonly string[] VmOnly = ["vm"];

    private readonly ProvisioningWorld world = new(fixture);

    private TestFunctionApp App => world.App;

    [Fact]
    public async Task An_agent_finds_a_paid_contract_locks_it_reports_it_provisioned_and_the_renter_reads_the_sealed_credentials()
    {
        var agent = await world.AgentAsync();
        var contract = await world.ContractAsync();
        var unpaid = await world.ContractAsync(paid: false);
        var id = contract.PartitionKey;

        var pending = await (await world.AsAgentAsync(agent, HttpMethod.Get, world.Path("provisioning/pending"))).Content.ReadFromJsonAsync<PendingWork>();
        var locked = await world.AsAgentAsync(agent, HttpMethod.Post, world.Path($"contracts/{id}/lock"), new { leaseSeconds = 120 });
        var progress = await world.AsAgentAsync(agent, HttpMethod.Post, world.Path($"contracts/{id}/provisioning"), new { status = "provisioning", message = "creating the VM" });
        var instance = ProvisioningWorld.Instance(id);
        var provisioned = await world.AsAgentAsync(agent, HttpMethod.Post, world.Path($"contracts/{id}/provisioning"), new { status = "provisioned", instance });

        Assert.Contains(pending!.Provision, w => w.ContractId == id && w.SshKey == ProvisioningWorld.SshKey && w.Hours == 720 && w.Lock is null);
        Assert.DoesNotContain(pending.Provision, w => w.ContractId == unpaid.PartitionKey);
        Assert.Equal(30, pending.PollAfterSeconds);
        Assert.Equal(HttpStatusCode.OK, locked.StatusCode);
        var lease = await locked.Content.ReadFromJsonAsync<LockView>();
        Assert.Equal(agent.PublicKeyHex, lease!.AgentPubkey);
        Assert.InRange(lease.ExpiresAt, DateTimeOffset.UtcNow.AddSeconds(60), DateTimeOffset.UtcNow.AddSeconds(130));
        Assert.Equal(HttpStatusCode.Accepted, progress.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, provisioned.StatusCode);

        var reports = await world.Provisioning.ReportsAsync(id, CancellationToken.None);
        Assert.Equal(["provisioned", "provisioning"], reports.Select(r => r.Status));
        var recorded = await world.Provisioning.InstanceAsync(id, CancellationToken.None);
        Assert.Equal("vm-1", recorded!.ExternalId);
        Assert.Equal("accepted", (await world.Contracts.FindAsync(id, CancellationToken.None))!.State);

        using var renter = App.SignedBy(world.Renter);
        var credentials = await renter.GetFromJsonAsync<CredentialsView>($"api/v1/contracts/{id}/credentials");
        var sealedBlob = (Dictionary<string, object?>)instance["sealedCredentials"]!;
        Assert.Equal(sealedBlob["ciphertext"], credentials!.Ciphertext);
        Assert.Equal(sealedBlob["nonce"], credentials.Nonce);
        Assert.Equal(sealedBlob["ephemeralPubkey"], credentials.EphemeralPubkey);
        Assert.Equal(sealedBlob["aad"], credentials.Aad);
        Assert.Equal(("203.0.113.10", 22, "root", 2), (credentials.Ipv4, credentials.SshPort, credentials.SshUser, credentials.Version));

        using var providerClient = App.SignedBy(world.Provider);
        await ApiAssert.ProblemAsync(await providerClient.GetAsync($"api/v1/contracts/{id}/credentials"), HttpStatusCode.Forbidden);
        await ApiAssert.ProblemAsync(await renter.GetAsync($"api/v1/contracts/{unpaid.PartitionKey}/credentials"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_provisioned_report_sent_again_before_the_contract_moves_on_is_accepted_and_recorded_once()
    {
        var agent = await world.AgentAsync();
        var other = await world.AgentAsync();
        var contract = await world.ContractAsync();
        var id = contract.PartitionKey;
        var path = world.Path($"contracts/{id}/provisioning");
        var instance = ProvisioningWorld.Instance(id);
        Assert.Equal(HttpStatusCode.OK, (await world.AsAgentAsync(agent, HttpMethod.Post, world.Path($"contracts/{id}/lock"), new { leaseSeconds = 120 })).StatusCode);

        // As the agent's daemon and its `manual complete` both send a report left pending: the same report twice.
        var first = await world.AsAgentAsync(agent, HttpMethod.Post, path, new { status = "provisioned", instance });
        var again = await world.AsAgentAsync(agent, HttpMethod.Post, path, new { status = "provisioned", instance });
        var fromOther = await world.AsAgentAsync(other, HttpMethod.Post, path, new { status = "provisioned", instance });

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal("lockHeld", await ProvisioningWorld.CheckOf(fromOther));
        Assert.Equal(["provisioned"], (await world.Provisioning.ReportsAsync(id, CancellationToken.None)).Select(r => r.Status));
        Assert.Equal(agent.PublicKeyHex, (await world.Provisioning.InstanceAsync(id, CancellationToken.None))!.AgentKey);
        Assert.Equal("accepted", (await world.Contracts.FindAsync(id, CancellationToken.None))!.State);
    }

    [Fact]
    public async Task Health_reports_are_kept_raw_with_their_signature_and_shown_to_the_renter_and_provider()
    {
        var agent = await world.AgentAsync();
        var contract = await world.ContractAsync();
        var id = contract.PartitionKey;
        await world.ProvisionAsync(agent, id, ProvisioningWorld.Instance(id));
        await world.SetStateAsync(id, ContractState.Provisioned);
        var body = $$$"""{"checkedAt":"{{{DateTimeOffset.UtcNow:O}}}","status":"healthy","latencyMs":12,"details":{"ssh":"ok"}}""";

        var reported = await world.AsAgentAsync(agent, HttpMethod.Post, world.Path($"contracts/{id}/health"), body);
        using var renter = App.SignedBy(world.Renter);
        using var stranger = App.SignedBy(Ed25519phKey.Generate());
        var view = await renter.GetFromJsonAsync<ContractHealthView>($"api/v1/contracts/{id}/health");
        var refused = await stranger.GetAsync($"api/v1/contracts/{id}/health");

        Assert.Equal(HttpStatusCode.Accepted, reported.StatusCode);
        var row = Assert.Single(await world.Health.ReportsAsync(id, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow, CancellationToken.None));
        Assert.Equal(body, row.Body);
        Assert.Equal($"{id}:{DateTimeOffset.UtcNow:yyyyMMdd}", row.PartitionKey);
        Assert.Equal(agent.PublicKeyHex, row.XPublicKey);
        Assert.Equal(agent.PublicKeyHex, row.XAgentPubkey);
        Assert.Equal(128, row.XSignature.Length);
        Assert.False(string.IsNullOrEmpty(row.XNonce));
        Assert.False(string.IsNullOrEmpty(row.XTimestamp));
        Assert.Equal(("POST", $"/api/v1/providers/{world.Provider.PublicKeyHex}/contracts/{id}/health"), (row.Method, row.Target));

        // The kept headers and body verify again, as anyone re-checking the figures would verify them.
        var verified = new RequestVerifier(TimeProvider.System).Verify(row.Method, row.Target, new SignatureHeaders(row.XPublicKey, row.XSignature, row.XTimestamp, row.XNonce), System.Text.Encoding.UTF8.GetBytes(row.Body));
        Assert.True(verified.IsValid, verified.Detail);

        var check = Assert.Single(view!.Checks);
        Assert.Equal(("healthy", 12, "ok"), (check.Status, check.LatencyMs, check.Details!.Value.GetProperty("ssh").GetString()));
        Assert.Equal(new ReportFigures(1, 1, 0, 100), view.Uptime.AgentReports);
        Assert.Equal(new ProbeFigures(0, 0, null, 0), view.Uptime.Probes);
        await ApiAssert.ProblemAsync(refused, HttpStatusCode.Forbidden);
        Assert.Contains(App.Logs.Entries, e => e.Message.Contains("HealthReported", StringComparison.Ordinal) && e.Message.Contains($"contract-{id}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Refused_agent_requests_are_problems_and_change_nothing()
    {
        var agent = await world.AgentAsync();
        var heartbeatOnly = await world.AgentAsync(["heartbeat"]);
        var revoked = await world.AgentAsync();
        await world.RevokeAsync(revoked);
        var stranger = Ed25519phKey.Generate();
        var otherProvider = Ed25519phKey.Generate();
        var othersAgent = await world.AgentAsync(provider: otherProvider);
        var contract = await world.ContractAsync();
        var unpaid = await world.ContractAsync(paid: false);
        var othersContract = await world.ContractAsync(provider: otherProvider);
        var holder = await world.AgentAsync();
        var held = await world.ContractAsync();
        Assert.Equal(HttpStatusCode.OK, (await world.AsAgentAsync(holder, HttpMethod.Post, world.Path($"contracts/{held.PartitionKey}/lock"), new { })).StatusCode);
        var lockOf = (string id) => world.Path($"contracts/{id}/lock");
        var before = await world.SnapshotAsync();

        var noDelegation = await world.AsAgentAsync(stranger, HttpMethod.Post, lockOf(contract.PartitionKey), new { });
        var wasRevoked = await world.AsAgentAsync(revoked, HttpMethod.Post, lockOf(contract.PartitionKey), new { });
        var noPermission = await world.AsAgentAsync(heartbeatOnly, HttpMethod.Post, lockOf(contract.PartitionKey), new { });
        var otherPath = await world.AsAgentAsync(othersAgent, HttpMethod.Post, lockOf(contract.PartitionKey), new { });
        var othersContractLock = await world.AsAgentAsync(agent, HttpMethod.Post, lockOf(othersContract.PartitionKey), new { });
        var othersContractHealth = await world.AsAgentAsync(agent, HttpMethod.Post, world.Path($"contracts/{othersContract.PartitionKey}/health"), new { checkedAt = DateTimeOffset.UtcNow, status = "healthy" });
        var notPaid = await world.AsAgentAsync(agent, HttpMethod.Post, lockOf(unpaid.PartitionKey), new { });
        var lockHeld = await world.AsAgentAsync(agent, HttpMethod.Post, lockOf(held.PartitionKey), new { });
        var reportWithoutLock = await world.AsAgentAsync(agent, HttpMethod.Post, world.Path($"contracts/{held.PartitionKey}/provisioning"), new { status = "failed" });
        var unlockOthers = await world.AsAgentAsync(agent, HttpMethod.Delete, lockOf(held.PartitionKey));
        var badLease = await world.AsAgentAsync(agent, HttpMethod.Post, lockOf(contract.PartitionKey), new { leaseSeconds = 5 });
        var badHeartbeat = await world.AsAgentAsync(agent, HttpMethod.Post, world.Path("heartbeat"), new { version = "", provisioner = "manual", activeContracts = -1 });

        Assert.Equal(HttpStatusCode.Forbidden, noDelegation.StatusCode);
        Assert.Equal("noDelegation", await ProvisioningWorld.CheckOf(noDelegation));
        Assert.Equal("revoked", await ProvisioningWorld.CheckOf(wasRevoked));
        Assert.Equal(HttpStatusCode.Forbidden, wasRevoked.StatusCode);
        Assert.Equal("permission", await ProvisioningWorld.CheckOf(noPermission));
        Assert.Equal(HttpStatusCode.Forbidden, noPermission.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, otherPath.StatusCode);
        Assert.Equal("provider", await ProvisioningWorld.CheckOf(otherPath));
        await ApiAssert.ProblemAsync(othersContractLock, HttpStatusCode.NotFound);
        await ApiAssert.ProblemAsync(othersContractHealth, HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.Conflict, notPaid.StatusCode);
        Assert.Equal("notPaid", await ProvisioningWorld.CheckOf(notPaid));
        Assert.Equal(HttpStatusCode.Conflict, lockHeld.StatusCode);
        Assert.Equal("lockHeld", await ProvisioningWorld.CheckOf(lockHeld));
        Assert.Equal("lockHeld", await ProvisioningWorld.CheckOf(reportWithoutLock));
        Assert.Equal(HttpStatusCode.Conflict, unlockOthers.StatusCode);
        await ApiAssert.ProblemAsync(badLease, HttpStatusCode.BadRequest);
        await ApiAssert.ProblemAsync(badHeartbeat, HttpStatusCode.BadRequest);
        Assert.Empty((await world.SnapshotAsync()).ChangesSince(before));
    }

    [Fact]
    public async Task Two_agents_racing_for_one_lock_get_exactly_one_lease_and_the_holder_renews_and_releases_it()
    {
        var first = await world.AgentAsync();
        var second = await world.AgentAsync();
        var contract = await world.ContractAsync();
        var path = world.Path($"contracts/{contract.PartitionKey}/lock");

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => world.AsAgentAsync(i % 2 == 0 ? first : second, HttpMethod.Post, path, new { })));
        var winners = answers.Where(a => a.StatusCode == HttpStatusCode.OK).Select(a => a.Content.ReadFromJsonAsync<LockView>().Result!.AgentPubkey).Distinct().ToList();
        var lease = (await world.Provisioning.LockAsync(contract.PartitionKey, CancellationToken.None))!;
        var holder = lease.AgentKey == first.PublicKeyHex ? first : second;
        var loser = holder == first ? second : first;

        Assert.Equal([lease.AgentKey], winners);
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.OK), a => Assert.Equal(HttpStatusCode.Conflict, a.StatusCode));
        Assert.Equal(HttpStatusCode.OK, (await world.AsAgentAsync(holder, HttpMethod.Post, path, new { leaseSeconds = 3600 })).StatusCode);
        Assert.True((await world.Provisioning.LockAsync(contract.PartitionKey, CancellationToken.None))!.ExpiresAt > DateTimeOffset.UtcNow.AddMinutes(50));
        var pendingForLoser = await (await world.AsAgentAsync(loser, HttpMethod.Get, world.Path("provisioning/pending"))).Content.ReadFromJsonAsync<PendingWork>();
        Assert.DoesNotContain(pendingForLoser!.Provision, w => w.ContractId == contract.PartitionKey);

        Assert.Equal(HttpStatusCode.NoContent, (await world.AsAgentAsync(holder, HttpMethod.Delete, path)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await world.AsAgentAsync(loser, HttpMethod.Post, path, new { })).StatusCode);
    }

    [Fact]
    public async Task Plaintext_credentials_and_credentials_sealed_for_another_contract_are_refused_and_nothing_is_stored()
    {
        var agent = await world.AgentAsync();
        var contract = await world.ContractAsync();
        var id = contract.PartitionKey;
        Assert.Equal(HttpStatusCode.OK, (await world.AsAgentAsync(agent, HttpMethod.Post, world.Path($"contracts/{id}/lock"), new { })).StatusCode);
        var withPassword = ProvisioningWorld.Instance(id);
        withPassword["password"] = "hunter2";
        var withSealedExtra = ProvisioningWorld.Instance(id);
        ((Dictionary<string, object?>)withSealedExtra["sealedCredentials"]!)["plaintext"] = "root:hunter2";
        var otherAad = ProvisioningWorld.Instance(id);
        otherAad["sealedCredentials"] = ProvisioningWorld.Sealed(id, aadFor: ContractStore.NewId());
        var noSealed = ProvisioningWorld.Instance(id);
        noSealed.Remove("sealedCredentials");
        var before = await world.SnapshotAsync();
        var path = world.Path($"contracts/{id}/provisioning");

        var password = await world.AsAgentAsync(agent, HttpMethod.Post, path, new { status = "provisioned", instance = withPassword });
        var topLevel = await world.AsAgentAsync(agent, HttpMethod.Post, path, new { status = "provisioned", instance = ProvisioningWorld.Instance(id), credentials = new { password = "hunter2" } });
        var sealedExtra = await world.AsAgentAsync(agent, HttpMethod.Post, path, new { status = "provisioned", instance = withSealedExtra });
        var aad = await world.AsAgentAsync(agent, HttpMethod.Post, path, new { status = "provisioned", instance = otherAad });
        var missing = await world.AsAgentAsync(agent, HttpMethod.Post, path, new { status = "provisioned", instance = noSealed });

        await ApiAssert.ProblemAsync(password, HttpStatusCode.BadRequest);
        await ApiAssert.ProblemAsync(topLevel, HttpStatusCode.BadRequest);
        await ApiAssert.ProblemAsync(sealedExtra, HttpStatusCode.BadRequest);
        var aadProblem = await ApiAssert.ProblemAsync(aad, HttpStatusCode.BadRequest);
        Assert.True(aadProblem.GetProperty("errors").TryGetProperty("instance.sealedCredentials.aad", out _));
        var missingProblem = await ApiAssert.ProblemAsync(missing, HttpStatusCode.BadRequest);
        Assert.True(missingProblem.GetProperty("errors").TryGetProperty("instance.sealedCredentials", out _));
        Assert.Empty((await world.SnapshotAsync()).ChangesSince(before));
        Assert.DoesNotContain(App.Logs.Entries, e => e.Message.Contains("hunter2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Heartbeats_show_agents_online_with_their_version_and_answer_the_suggested_intervals()
    {
        var agent = await world.AgentAsync(label: "rack 1");
        var quiet = await world.AgentAsync(label: "rack 2");
        var silent = await world.AgentAsync(label: "rack 3");
        await world.Health.SaveHeartbeatAsync(new HeartbeatRow { PartitionKey = world.Provider.PublicKeyHex, RowKey = quiet.PublicKeyHex, Version = "0.9.0", Provisioner = "manual", LastHeartbeatAt = DateTimeOffset.UtcNow.AddMinutes(-6) }, CancellationToken.None);

        var answer = await world.AsAgentAsync(agent, HttpMethod.Post, world.Path("heartbeat"), new { version = "1.2.3", provisioner = "manual", capabilities = VmOnly, activeContracts = 2, resources = new { cpuCores = 8 } });
        var agents = await App.Client.GetFromJsonAsync<List<AgentView>>(world.Path("agents"));

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(new SuggestedIntervals(30, 60, 300), await answer.Content.ReadFromJsonAsync<SuggestedIntervals>());
        Assert.Equal(3, agents!.Count);
        var online = agents.Single(a => a.AgentPubkey == agent.PublicKeyHex);
        Assert.Equal((true, "1.2.3", "manual", 2, "rack 1"), (online.Online, online.Version, online.Provisioner, online.ActiveContracts, online.Label));
        Assert.False(agents.Single(a => a.AgentPubkey == quiet.PublicKeyHex).Online);
        Assert.Null(agents.Single(a => a.AgentPubkey == silent.PublicKeyHex).LastHeartbeatAt);
    }

    [Fact]
    public async Task Reconcile_keeps_live_contracts_instances_and_names_ended_and_unknown_ones_to_terminate_which_pending_lists_until_reported()
    {
        var agent = await world.AgentAsync();
        var live = await world.ContractAsync();
        var ended = await world.ContractAsync();
        await world.ProvisionAsync(agent, live.PartitionKey, ProvisioningWorld.Instance(live.PartitionKey, externalId: "vm-live"));
        await world.ProvisionAsync(agent, ended.PartitionKey, ProvisioningWorld.Instance(ended.PartitionKey, externalId: "vm-ended"));
        await world.SetStateAsync(live.PartitionKey, ContractState.Active);
        await world.SetStateAsync(ended.PartitionKey, ContractState.Cancelled);

        var answer = await (await world.AsAgentAsync(agent, HttpMethod.Post, world.Path("reconcile"), new
        {
            instances = new object[] { new { externalId = "vm-live" }, new { externalId = "vm-ended", contractId = ended.PartitionKey }, new { externalId = "vm-stray" } },
        })).Content.ReadFromJsonAsync<ReconcileAnswer>();
        var pending = await (await world.AsAgentAsync(agent, HttpMethod.Get, world.Path("provisioning/pending"))).Content.ReadFromJsonAsync<PendingWork>();
        var terminated = await world.AsAgentAsync(agent, HttpMethod.Post, world.Path($"contracts/{ended.PartitionKey}/terminated"), new { message = "deleted" });
        var after = await (await world.AsAgentAsync(agent, HttpMethod.Get, world.Path("provisioning/pending"))).Content.ReadFromJsonAsync<PendingWork>();

        Assert.Equal([new KeptInstance("vm-live", live.PartitionKey)], answer!.Keep);
        Assert.Equal([new InstanceToTerminate("vm-ended", ended.PartitionKey, "ended"), new InstanceToTerminate("vm-stray", null, "unknown")], answer.Terminate);
        var work = Assert.Single(pending!.Terminate);
        Assert.Equal((ended.PartitionKey, "vm-ended"), (work.ContractId, work.Instance!.ExternalId));
        Assert.Equal(HttpStatusCode.Accepted, terminated.StatusCode);
        Assert.Empty(after!.Terminate);
        Assert.Equal("deleted", (await world.Provisioning.TerminatedAsync(ended.PartitionKey, CancellationToken.None))!.Message);
    }
}
