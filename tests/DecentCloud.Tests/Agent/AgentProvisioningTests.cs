using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using DecentCloud.Agent;
using DecentCloud.Agent.Api;
using DecentCloud.Agent.State;
using DecentCloud.Shared.Sealing;
using DecentCloud.Shared.Signing;
using DecentCloud.Tests.Support;
using Microsoft.Extensions.Hosting;
using AgentProgram = DecentCloud.Agent.Program;

namespace DecentCloud.Tests.Agent;

/// <summary>dc-agent against a stand-in of the agent API that checks every request's signature and shape.</summary>
// The agent runs on Linux (docs/agent.md); these tests check Unix file modes.
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class AgentProvisioningTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private static readonly JsonSerializerOptions WebJson = new(JsonSerializerDefaults.Web);

    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("dc-agent-test-");
    private readonly Ed25519phKey provider = Ed25519phKey.Generate();
    private readonly Ed25519phKey renter = Ed25519phKey.Generate();
    private Ed25519phKey agent = null!;
    private AgentApiStandIn api = null!;

    private string ConfigPath => Path.Combine(folder.FullName, "dc-agent.toml");
    private string NotifiedPath => Path.Combine(folder.FullName, "notified.txt");
    private string StatePath => Path.Combine(folder.FullName, "dc-agent-state.json");

    public async Task InitializeAsync()
    {
        agent = AgentIdentity.CreateKeyFile(Path.Combine(folder.FullName, "agent.key"));
        api = await AgentApiStandIn.StartAsync(provider.PublicKeyHex, agent.PublicKeyHex);

        var notify = Path.Combine(folder.FullName, "notify.sh");
        File.WriteAllText(notify, $"#!/bin/sh\necho \"$DC_AGENT_ACTION $DC_AGENT_CONTRACT_ID\" >> '{NotifiedPath}'\n");
        File.SetUnixFileMode(notify, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        File.WriteAllText(ConfigPath, $"""
            api_base_url = "{api.BaseUrl}"
            provider_pubkey = "{provider.PublicKeyHex}"
            [manual]
            notify_command = ["{notify}"]
            health_check_timeout_seconds = 2
            [Logging.LogLevel]
            Default = "Warning"
            """);
    }

    public async Task DisposeAsync()
    {
        await api.DisposeAsync();
        folder.Delete(recursive: true);
    }

    private string[] Notified => File.Exists(NotifiedPath) ? File.ReadAllLines(NotifiedPath) : [];

    private async Task<(int Exit, string Out, string Err)> Command(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await AgentProgram.RunAsync(args, stdout, stderr, CancellationToken.None).WaitAsync(Patience);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private IHost Services() => AgentProgram.Create(ConfigPath, builder => builder.Logging.ClearProviders());

    [Fact]
    public async Task Run_locks_new_work_and_notifies_then_manual_complete_reports_credentials_only_the_renter_can_open_and_health_follows()
    {
        using var sshPort = new TcpListener(IPAddress.Loopback, 0);
        sshPort.Start();
        var port = ((IPEndPoint)sshPort.LocalEndpoint).Port;
        api.AddPaidContract("c-1", renter.PublicKeyHex);
        // The platform asks for faster rounds than the config's 30 s and 300 s: the agent must follow.
        api.HeartbeatAnswer = new { pollSeconds = 1, heartbeatSeconds = 60, healthCheckSeconds = 1 };
        using var stop = new CancellationTokenSource();

        var daemon = AgentProgram.RunAsync(["run", "--config", ConfigPath], new StringWriter(), new StringWriter(), stop.Token);

        await Eventually.HoldsAsync(() => Notified.Contains("provision c-1"), "the daemon notifies the operator of c-1", Patience);
        Assert.Equal("provisioning", api.Contracts["c-1"].State);
        var passwordFile = Path.Combine(folder.FullName, "password");
        File.WriteAllText(passwordFile, "correct horse battery\n");

        var complete = await Command("manual", "complete", "c-1", "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--user", "root", "--password-file", passwordFile, "--config", ConfigPath);

        Assert.Equal(0, complete.Exit);
        var report = Assert.Single(api.Contracts["c-1"].Reports, r => r.GetProperty("status").GetString() == "provisioned");
        var instance = report.GetProperty("instance");
        Assert.Equal("127.0.0.1", instance.GetProperty("ipv4").GetString());
        Assert.Equal(port, instance.GetProperty("sshPort").GetInt32());
        var sealedCredentials = instance.GetProperty("sealedCredentials").Deserialize<SealedCredentials>(WebJson)!;
        Assert.Equal("correct horse battery", CredentialSealer.Open(sealedCredentials, Convert.FromHexString(renter.ExportSeedHex()), "c-1"));
        Assert.DoesNotContain("correct horse", report.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("correct horse", File.ReadAllText(StatePath), StringComparison.Ordinal);

        // The daemon picks the instance up from the shared state file and checks it on the platform's 1 s schedule.
        await Eventually.HoldsAsync(() => api.Contracts["c-1"].Health.Any(h => h.GetProperty("status").GetString() == "healthy"), "a healthy report of c-1", Patience);
        Assert.NotEmpty(api.CallsTo("POST", "/heartbeat"));
        Assert.NotEmpty(api.CallsTo("POST", "/reconcile"));

        await stop.CancelAsync();
        Assert.Equal(0, await daemon.WaitAsync(Patience));
        Assert.Single(Notified);
        Assert.Empty(api.Violations);
    }

    [Fact]
    public async Task A_contract_recorded_with_its_report_pending_is_reported_after_a_restart_and_not_provisioned_again()
    {
        var contract = api.AddPaidContract("c-2", renter.PublicKeyHex);
        contract.LockHolder = agent.PublicKeyHex;
        contract.State = "provisioning";
        var store = new AgentStateStore(StatePath);
        await store.PutAsync(new ContractRecord
        {
            ContractId = "c-2",
            RenterPubkey = renter.PublicKeyHex,
            Phase = ContractPhase.ReportPending,
            UpdatedAt = DateTimeOffset.UtcNow,
            Instance = new InstanceReport("vm-2", "192.0.2.7", null, null, 22, "root", CredentialSealer.Seal(renter.PublicKey.ToBytes(), "pw", "c-2")),
        }, CancellationToken.None);

        using var host = Services();
        var worker = host.Services.GetRequiredService<AgentWorker>();
        await worker.PollAsync(CancellationToken.None);
        await worker.PollAsync(CancellationToken.None);

        var report = Assert.Single(contract.Reports);
        Assert.Equal("provisioned", report.GetProperty("status").GetString());
        Assert.Equal("vm-2", report.GetProperty("instance").GetProperty("externalId").GetString());
        Assert.Empty(Notified);
        Assert.Equal(ContractPhase.Provisioned, (await store.ReadAsync(CancellationToken.None)).Contracts["c-2"].Phase);
        Assert.Empty(api.Violations);
    }

    [Fact]
    public async Task A_health_report_the_platform_refuses_for_one_contract_does_not_stop_the_health_checks_of_the_others()
    {
        using var sshPort = new TcpListener(IPAddress.Loopback, 0);
        sshPort.Start();
        var port = ((IPEndPoint)sshPort.LocalEndpoint).Port;
        // The first contract's term ended (the platform refuses its health reports until it is terminated); the second runs.
        var ended = api.AddPaidContract("c-ended", renter.PublicKeyHex);
        var running = api.AddPaidContract("c-running", renter.PublicKeyHex);
        (ended.State, running.State) = ("expired", "active");
        var store = new AgentStateStore(StatePath);
        foreach (var id in new[] { "c-ended", "c-running" })
        {
            await store.PutAsync(new ContractRecord
            {
                ContractId = id,
                RenterPubkey = renter.PublicKeyHex,
                Phase = ContractPhase.Provisioned,
                UpdatedAt = DateTimeOffset.UtcNow,
                Instance = new InstanceReport($"vm-{id}", "127.0.0.1", null, null, port, "root", CredentialSealer.Seal(renter.PublicKey.ToBytes(), "pw", id)),
            }, CancellationToken.None);
        }

        using var host = Services();
        await host.Services.GetRequiredService<AgentWorker>().CheckHealthAsync(CancellationToken.None);

        Assert.Equal("healthy", Assert.Single(running.Health).GetProperty("status").GetString());
        Assert.Empty(ended.Health);
        Assert.Empty(api.Violations);
    }

    [Fact]
    public async Task A_contract_waiting_for_the_operator_keeps_its_lock_and_is_not_notified_again_after_a_restart()
    {
        var contract = api.AddPaidContract("c-3", renter.PublicKeyHex);
        contract.LockHolder = agent.PublicKeyHex;
        contract.State = "provisioning";
        await new AgentStateStore(StatePath).PutAsync(new ContractRecord
        {
            ContractId = "c-3", RenterPubkey = renter.PublicKeyHex, Phase = ContractPhase.Waiting, UpdatedAt = DateTimeOffset.UtcNow, NotifiedAt = DateTimeOffset.UtcNow,
        }, CancellationToken.None);

        using var host = Services();
        await host.Services.GetRequiredService<AgentWorker>().PollAsync(CancellationToken.None);

        Assert.Equal(1, contract.Locks);
        Assert.Empty(contract.Reports);
        Assert.Empty(Notified);
    }

    [Fact]
    public async Task New_work_is_locked_recorded_reported_provisioning_and_notified_once()
    {
        var contract = api.AddPaidContract("c-4", renter.PublicKeyHex);
        using var host = Services();
        var worker = host.Services.GetRequiredService<AgentWorker>();

        await worker.PollAsync(CancellationToken.None);
        await worker.PollAsync(CancellationToken.None);

        Assert.Equal(["provision c-4"], Notified);
        Assert.Equal("provisioning", Assert.Single(contract.Reports).GetProperty("status").GetString());
        Assert.Equal(ContractPhase.Waiting, (await new AgentStateStore(StatePath).ReadAsync(CancellationToken.None)).Contracts["c-4"].Phase);
        Assert.Empty(api.Violations);
    }

    [Fact]
    public async Task Manual_fail_reports_the_reason_and_forgets_the_contract()
    {
        var contract = api.AddPaidContract("c-5", renter.PublicKeyHex);
        using (var host = Services())
        {
            await host.Services.GetRequiredService<AgentWorker>().PollAsync(CancellationToken.None);
        }

        var fail = await Command("manual", "fail", "c-5", "--reason", "no capacity left in the rack", "--config", ConfigPath);

        Assert.Equal(0, fail.Exit);
        var report = contract.Reports.Last();
        Assert.Equal("failed", report.GetProperty("status").GetString());
        Assert.Equal("no capacity left in the rack", report.GetProperty("message").GetString());
        Assert.Empty((await new AgentStateStore(StatePath).ReadAsync(CancellationToken.None)).Contracts);
        Assert.Empty(api.Violations);
    }

    [Fact]
    public async Task Manual_complete_for_a_contract_that_is_not_pending_is_refused_and_reports_nothing()
    {
        var passwordFile = Path.Combine(folder.FullName, "password");
        File.WriteAllText(passwordFile, "pw");

        var complete = await Command("manual", "complete", "c-unknown", "--host", "192.0.2.1", "--user", "root", "--password-file", passwordFile, "--config", ConfigPath);

        Assert.Equal(1, complete.Exit);
        Assert.Contains("not waiting to be provisioned", complete.Err, StringComparison.Ordinal);
        Assert.Empty(api.CallsTo("POST", "/provisioning"));
    }

    [Fact]
    public async Task An_ended_contract_is_handed_to_the_operator_and_reported_terminated_once_confirmed()
    {
        var contract = api.AddPaidContract("c-6", renter.PublicKeyHex);
        contract.State = "expired";
        contract.MarkedForTermination = true;
        contract.Instance = JsonSerializer.SerializeToElement(new { externalId = "vm-6" });
        await new AgentStateStore(StatePath).PutAsync(new ContractRecord
        {
            ContractId = "c-6", RenterPubkey = renter.PublicKeyHex, Phase = ContractPhase.Provisioned, UpdatedAt = DateTimeOffset.UtcNow,
            Instance = new InstanceReport("vm-6", "192.0.2.6", null, null, 22, "root", CredentialSealer.Seal(renter.PublicKey.ToBytes(), "pw", "c-6")),
        }, CancellationToken.None);

        using (var host = Services())
        {
            var worker = host.Services.GetRequiredService<AgentWorker>();
            await worker.PollAsync(CancellationToken.None);
            await worker.PollAsync(CancellationToken.None);
        }
        Assert.Equal(["terminate c-6"], Notified);
        Assert.False(contract.Terminated);

        var confirmed = await Command("manual", "terminated", "c-6", "--config", ConfigPath);

        Assert.Equal(0, confirmed.Exit);
        Assert.True(contract.Terminated);
        Assert.Empty((await new AgentStateStore(StatePath).ReadAsync(CancellationToken.None)).Contracts);
        Assert.Empty(api.Violations);
    }

    [Fact]
    public async Task Reconcile_lists_the_running_instances_and_hands_those_the_platform_ended_to_the_operator()
    {
        var store = new AgentStateStore(StatePath);
        foreach (var id in new[] { "c-7", "c-8" })
        {
            await store.PutAsync(new ContractRecord
            {
                ContractId = id, RenterPubkey = renter.PublicKeyHex, Phase = ContractPhase.Provisioned, UpdatedAt = DateTimeOffset.UtcNow,
                Instance = new InstanceReport($"vm-{id}", "192.0.2.8", null, null, 22, "root", CredentialSealer.Seal(renter.PublicKey.ToBytes(), "pw", id)),
            }, CancellationToken.None);
        }
        api.TerminateOnReconcile["vm-c-8"] = "ended";

        using var host = Services();
        await host.Services.GetRequiredService<AgentWorker>().ReconcileAsync(CancellationToken.None);

        var sent = Assert.Single(api.CallsTo("POST", "/reconcile")).Body!.Value.GetProperty("instances");
        Assert.Equal(2, sent.GetArrayLength());
        Assert.Equal(["terminate c-8"], Notified);
        Assert.Equal(ContractPhase.TerminationWaiting, (await store.ReadAsync(CancellationToken.None)).Contracts["c-8"].Phase);
        Assert.Equal(ContractPhase.Provisioned, (await store.ReadAsync(CancellationToken.None)).Contracts["c-7"].Phase);
    }

    [Fact]
    public async Task Heartbeat_reports_the_agent_and_records_when_it_was_sent()
    {
        api.HeartbeatAnswer = new { pollSeconds = 20, heartbeatSeconds = 45, healthCheckSeconds = 120 };
        using var host = Services();

        var answer = await host.Services.GetRequiredService<AgentWorker>().HeartbeatAsync(CancellationToken.None);

        Assert.Equal(new HeartbeatAnswer(20, 45, 120), answer);
        var body = Assert.Single(api.CallsTo("POST", "/heartbeat")).Body!.Value;
        Assert.Equal("manual", body.GetProperty("provisioner").GetString());
        Assert.Equal(0, body.GetProperty("activeContracts").GetInt32());
        Assert.NotNull((await new AgentStateStore(StatePath).ReadAsync(CancellationToken.None)).LastHeartbeatAt);
        Assert.Empty(api.Violations);
    }

    [Fact]
    public async Task An_api_that_is_down_is_a_transient_failure_and_retries_back_off_exponentially_to_five_minutes()
    {
        api.FailNext = 1;
        using var host = Services();

        var failure = await Assert.ThrowsAsync<AgentApiException>(() => host.Services.GetRequiredService<AgentWorker>().PollAsync(CancellationToken.None));

        Assert.True(failure.IsTransient);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failure.Status);
        var interval = TimeSpan.FromSeconds(30);
        Assert.Equal([60, 120, 240, 300, 300], Enumerable.Range(1, 5).Select(n => AgentLoop.Backoff(interval, n).TotalSeconds));
    }

    [Fact]
    public async Task A_provisioner_whose_infrastructure_is_down_fails_its_jobs_with_back_off_and_the_daemon_keeps_running()
    {
        // Docker in use (by its section) on a socket where nothing listens: listing its containers for reconcile fails.
        File.AppendAllText(ConfigPath, $"""

            [docker]
            endpoint = "unix://{Path.Combine(folder.FullName, "no-docker.sock")}"
            public_host = "203.0.113.10"
            [docker.offerings."small-container"]
            image = "ghcr.io/example/ubuntu-ssh:24.04"
            """);
        api.HeartbeatAnswer = new { pollSeconds = 1, heartbeatSeconds = 1, healthCheckSeconds = 1 };
        using var stop = new CancellationTokenSource();

        var daemon = AgentProgram.RunAsync(["run", "--config", ConfigPath], new StringWriter(), new StringWriter(), stop.Token);

        // Heartbeats and polls go on through reconcile's failures, so the platform still sees the agent online.
        await Eventually.HoldsAsync(() => api.CallsTo("POST", "/heartbeat").Count() >= 3 && api.CallsTo("GET", "/provisioning/pending").Count() >= 3,
            "three heartbeats and polls while Docker is down", Patience);
        Assert.False(daemon.IsCompleted, "the daemon must not stop because the provider's Docker is down");
        Assert.Empty(api.CallsTo("POST", "/reconcile"));

        await stop.CancelAsync();
        Assert.Equal(0, await daemon.WaitAsync(Patience));
        Assert.Empty(api.Violations);
    }

    [Fact]
    public async Task Init_writes_a_private_agent_key_and_a_config_and_register_sends_the_delegation_signed_by_the_provider()
    {
        var initFolder = Path.Combine(folder.FullName, "fresh");
        var config = Path.Combine(initFolder, "dc-agent.toml");
        var providerKeyFile = Path.Combine(folder.FullName, "provider.key");
        File.WriteAllText(providerKeyFile, provider.ExportSeedHex());

        var init = await Command("init", "--config", config, "--provider", provider.PublicKeyHex, "--api", api.BaseUrl.ToString());
        var again = await Command("init", "--config", config, "--provider", provider.PublicKeyHex);
        var register = await Command("register", "--config", config, "--provider-key-file", providerKeyFile, "--label", "rack 1");

        Assert.Equal(0, init.Exit);
        var keyFile = Path.Combine(initFolder, "agent.key");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        var agentKey = AgentIdentity.ReadKey(keyFile).PublicKeyHex;
        Assert.Contains(agentKey, init.Out, StringComparison.Ordinal);
        Assert.Equal(1, again.Exit);
        Assert.Equal(0, register.Exit);
        var delegation = api.Delegation!.Value;
        Assert.Equal(agentKey, delegation.GetProperty("agentPublicKey").GetString());
        Assert.Equal(["provision", "health_check", "heartbeat", "fetch_contracts"], delegation.GetProperty("permissions").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal("rack 1", delegation.GetProperty("label").GetString());
    }

    [Fact]
    public async Task Status_shows_the_api_the_delegation_and_the_contracts_held()
    {
        await new AgentStateStore(StatePath).PutAsync(new ContractRecord
        {
            ContractId = "c-9", RenterPubkey = renter.PublicKeyHex, Phase = ContractPhase.Waiting, UpdatedAt = DateTimeOffset.UtcNow,
        }, CancellationToken.None);

        var status = await Command("status", "--config", ConfigPath);
        var doctor = await Command("doctor", "--config", ConfigPath);

        Assert.Equal(0, status.Exit);
        Assert.Contains("delegation      valid", status.Out, StringComparison.Ordinal);
        Assert.Contains("c-9  Waiting", status.Out, StringComparison.Ordinal);
        Assert.Equal(0, doctor.Exit);
        Assert.Contains("dc-agent is ready to run.", doctor.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_names_a_notify_program_that_does_not_exist()
    {
        File.WriteAllText(ConfigPath, File.ReadAllText(ConfigPath).Replace("notify.sh", "no-such-notify.sh", StringComparison.Ordinal));

        var doctor = await Command("doctor", "--config", ConfigPath);

        Assert.Equal(1, doctor.Exit);
        Assert.Contains("no-such-notify.sh' is not an executable file", doctor.Out, StringComparison.Ordinal);
    }
}
