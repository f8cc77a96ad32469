using System.Net;
using System.Text.Json;
using DecentCloud.Agent.Api;
using DecentCloud.Agent.Provisioners;
using DecentCloud.Agent.Provisioners.Proxmox;
using DecentCloud.Shared.Sealing;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Agent.Proxmox;

/// <summary>dc-agent's Proxmox provisioner against the Proxmox stand-in, which checks every request against the API facts.</summary>
public sealed class ProxmoxProvisionerTests : IAsyncLifetime, IDisposable
{
    private const string RenterKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF+k3q/Zc0b9xYw2pQ= renter@laptop";
    private const string Clone = "POST /nodes/{node}/qemu/{vmid}/clone";
    private const string Config = "PUT /nodes/{node}/qemu/{vmid}/config";

    private readonly CapturedLogs logs = new();
    private readonly ILoggerFactory loggers;
    private ProxmoxStandIn? standIn;

    public ProxmoxProvisionerTests() => loggers = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Debug).AddProvider(logs));

    public void Dispose()
    {
        loggers.Dispose();
        logs.Dispose();
    }

    private ProxmoxStandIn StandIn => standIn ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => standIn = await ProxmoxStandIn.StartAsync();

    public async Task DisposeAsync()
    {
        loggers.Dispose();
        logs.Dispose();
        if (standIn is not null)
        {
            await standIn.DisposeAsync();
        }
    }

    [Fact]
    public async Task Provision_clones_the_template_configures_cloud_init_starts_and_reads_the_address_from_the_guest_agent()
    {
        var outcome = await Provisioner().ProvisionAsync(WorkFor("c-1"), CancellationToken.None);

        var server = Assert.IsType<ProvisionOutcome.Provisioned>(outcome).Server;
        Assert.Equal("qemu/100", server.ExternalId);
        Assert.Equal("10.10.0.100", server.Ipv4);
        Assert.Null(server.Ipv6);
        Assert.Equal(("dc", 22), (server.SshUser, server.SshPort));
        Assert.Equal(24, server.Password.Length);

        var vm = Assert.Single(StandIn.Vms, v => !v.Template);
        Assert.Equal(("dc-c-1", "running", (string?)null), (vm.Name, vm.Status, vm.Lock));
        Assert.Equal(["decent-cloud", "dc-c-1"], vm.Tags);
        Assert.Equal("dc", vm.Config["ciuser"]);
        Assert.Equal(server.Password, vm.Config["cipassword"]);
        Assert.Equal("ip=dhcp", vm.Config["ipconfig0"]);
        Assert.Equal(("2", "2048", "1"), (vm.Config["cores"], vm.Config["memory"], vm.Config["agent"]));
        Assert.Contains("c-1", vm.Config["description"], StringComparison.Ordinal);
        // URI-encoded as Proxmox wants: spaces as %20, '+', '/' and '=' encoded, nothing left that form decoding changes.
        Assert.Equal(Uri.EscapeDataString(RenterKey), vm.Config["sshkeys"]);
        Assert.Contains("%20", vm.Config["sshkeys"], StringComparison.Ordinal);
        Assert.DoesNotContain('+', vm.Config["sshkeys"]);

        var clone = Assert.Single(StandIn.Requests, r => r.Endpoint == Clone);
        Assert.Equal(("1", "dc-c-1", "local-lvm", "decent-cloud"), (clone.Parameters["full"], clone.Parameters["name"], clone.Parameters["storage"], clone.Parameters["pool"]));
        var taskReads = StandIn.Requests.Where(r => r.Endpoint == "GET /nodes/{node}/tasks/{upid}/status").ToList();
        Assert.True(taskReads.Count >= 4, "the clone's and the start's tasks are each followed to their end");
        Assert.Contains(StandIn.Requests, r => r.Endpoint == "GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces" && r.Status == 500);
        AssertContractKept();
    }

    [Fact]
    public async Task Several_keys_and_a_static_address_reach_the_vm_as_proxmox_takes_them()
    {
        var options = StandIn.Options();
        options.Offerings["vm-small"].IpConfig = "ip=203.0.113.10/24,gw=203.0.113.1";
        options.Offerings["vm-small"].Nameserver = "1.1.1.1";
        const string keys = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ+/== a@b\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI= c d";

        var outcome = await Provisioner(options).ProvisionAsync(WorkFor("c-2", keys), CancellationToken.None);

        Assert.Equal("203.0.113.10", Assert.IsType<ProvisionOutcome.Provisioned>(outcome).Server.Ipv4);
        var vm = Assert.Single(StandIn.Vms, v => !v.Template);
        Assert.Equal(keys, Uri.UnescapeDataString(vm.Config["sshkeys"]));
        Assert.Contains("%0A", vm.Config["sshkeys"], StringComparison.Ordinal);
        Assert.Equal("1.1.1.1", vm.Config["nameserver"]);
        AssertContractKept();
    }

    [Fact]
    public async Task Without_an_ssh_key_the_vm_gets_only_the_password()
    {
        var outcome = await Provisioner().ProvisionAsync(WorkFor("c-3", sshKey: null), CancellationToken.None);

        Assert.IsType<ProvisionOutcome.Provisioned>(outcome);
        Assert.False(Assert.Single(StandIn.Vms, v => !v.Template).Config.ContainsKey("sshkeys"));
        AssertContractKept();
    }

    [Fact]
    public async Task The_stand_in_refuses_ssh_keys_not_encoded_as_proxmox_requires()
    {
        using var http = StandInClient();
        StandIn.AddVm(100, "dc-x");

        foreach (var wrong in new[] { RenterKey, RenterKey.Replace(' ', '+'), Uri.EscapeDataString(Uri.EscapeDataString(RenterKey)) })
        {
            using var body = new FormUrlEncodedContent([KeyValuePair.Create("sshkeys", wrong)]);
            using var response = await http.PutAsync($"api2/json/nodes/{ProxmoxStandIn.Node}/qemu/100/config", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("Parameter verification failed.\n", answer.RootElement.GetProperty("message").GetString());
            Assert.True(answer.RootElement.GetProperty("errors").TryGetProperty("sshkeys", out _));
        }
        Assert.Equal(3, StandIn.Violations.Count);
        Assert.False(StandIn.Vms.Single(v => v.Vmid == 100).Config.ContainsKey("sshkeys"));
    }

    [Fact]
    public async Task The_stand_in_refuses_unknown_parameters_missing_required_ones_and_unknown_paths()
    {
        using var http = StandInClient();

        using var unknown = await http.PostAsync($"api2/json/nodes/{ProxmoxStandIn.Node}/qemu/9000/clone",
            new FormUrlEncodedContent([KeyValuePair.Create("newid", "100"), KeyValuePair.Create("fulll", "1")]));
        using var missing = await http.PostAsync($"api2/json/nodes/{ProxmoxStandIn.Node}/qemu/9000/clone", new FormUrlEncodedContent([KeyValuePair.Create("full", "1")]));
        using var path = await http.GetAsync("api2/json/nodes/pve1/lxc");

        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("not defined in schema", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("\"newid\":\"property is missing and it is not optional\\n\"", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotImplemented, path.StatusCode);
        Assert.Equal(3, StandIn.Violations.Count);
        Assert.Single(StandIn.Vms);
    }

    [Fact]
    public async Task Health_is_healthy_while_the_vm_runs_and_its_guest_agent_reports_an_address()
    {
        var provisioner = Provisioner();
        var server = Assert.IsType<ProvisionOutcome.Provisioned>(await provisioner.ProvisionAsync(WorkFor("c-4"), CancellationToken.None)).Server;
        var instance = Instance(server.ExternalId);

        var healthy = await provisioner.CheckHealthAsync(instance, CancellationToken.None);
        await provisioner.StopAsync("c-4", server.ExternalId, CancellationToken.None);
        var stopped = await provisioner.CheckHealthAsync(instance, CancellationToken.None);
        var missing = await provisioner.CheckHealthAsync(Instance("qemu/777"), CancellationToken.None);

        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.NotNull(healthy.LatencyMs);
        Assert.Contains("10.10.0.100", healthy.Details, StringComparison.Ordinal);
        Assert.Equal((HealthStatus.Unhealthy, "VM 100 on node pve1 is stopped"), (stopped.Status, stopped.Details));
        Assert.Equal((HealthStatus.Unhealthy, "VM 777 does not exist"), (missing.Status, missing.Details));
        AssertContractKept();
    }

    [Fact]
    public async Task Health_is_unhealthy_while_the_guest_agent_does_not_answer()
    {
        var provisioner = Provisioner();
        var server = Assert.IsType<ProvisionOutcome.Provisioned>(await provisioner.ProvisionAsync(WorkFor("c-5"), CancellationToken.None)).Server;
        StandIn.GuestAgentMissing = true;

        var result = await provisioner.CheckHealthAsync(Instance(server.ExternalId), CancellationToken.None);

        Assert.Equal((HealthStatus.Unhealthy, "VM 100: QEMU guest agent is not running"), (result.Status, result.Details));
        AssertContractKept();
    }

    [Fact]
    public async Task Terminate_stops_the_vm_then_destroys_it_with_its_disks_and_a_missing_vm_counts_as_gone()
    {
        var provisioner = Provisioner();
        var server = Assert.IsType<ProvisionOutcome.Provisioned>(await provisioner.ProvisionAsync(WorkFor("c-6"), CancellationToken.None)).Server;

        Assert.Equal(TerminateOutcome.Terminated, await provisioner.TerminateAsync("c-6", server.ExternalId, CancellationToken.None));
        Assert.Equal(TerminateOutcome.Terminated, await provisioner.TerminateAsync("c-6", server.ExternalId, CancellationToken.None));

        Assert.Equal([ProxmoxStandIn.TemplateVmid], StandIn.Vms.Select(v => v.Vmid));
        var calls = StandIn.Requests.Select(r => r.Endpoint).ToList();
        Assert.True(calls.LastIndexOf("POST /nodes/{node}/qemu/{vmid}/status/stop") < calls.IndexOf("DELETE /nodes/{node}/qemu/{vmid}"));
        var delete = Assert.Single(StandIn.Requests, r => r.Endpoint == "DELETE /nodes/{node}/qemu/{vmid}");
        Assert.Equal(("1", "1"), (delete.Parameters["purge"], delete.Parameters["destroy-unreferenced-disks"]));
        Assert.Contains(logs.Entries, e => e.EventId.Id == 149);
        Assert.Contains(logs.Entries, e => e.EventId.Id == 150);
        AssertContractKept();
    }

    [Fact]
    public async Task Stop_powers_the_vm_off_and_keeps_it_with_its_disks()
    {
        var provisioner = Provisioner();
        var server = Assert.IsType<ProvisionOutcome.Provisioned>(await provisioner.ProvisionAsync(WorkFor("c-7"), CancellationToken.None)).Server;

        Assert.Equal(StopOutcome.Stopped, await provisioner.StopAsync("c-7", server.ExternalId, CancellationToken.None));

        var vm = Assert.Single(StandIn.Vms, v => !v.Template);
        Assert.Equal(("dc-c-7", "stopped"), (vm.Name, vm.Status));
        Assert.DoesNotContain(StandIn.Requests, r => r.Method == "DELETE");
        Assert.Equal(server.ExternalId, (await provisioner.GetAsync("c-7", CancellationToken.None))?.ExternalId);
        AssertContractKept();
    }

    [Fact]
    public async Task List_running_gives_the_vms_tagged_for_decent_cloud_with_their_contracts_and_nothing_else()
    {
        var provisioner = Provisioner();
        await provisioner.ProvisionAsync(WorkFor("c-8"), CancellationToken.None);
        await provisioner.ProvisionAsync(WorkFor("c-9"), CancellationToken.None);
        await provisioner.StopAsync("c-9", null, CancellationToken.None);
        StandIn.AddVm(300, "web", "running");
        StandIn.AddVm(301, "dc-lookalike", "running");
        StandIn.AddVm(302, "backup", "running", tags: "decent-cloud");

        var running = await provisioner.ListRunningAsync(CancellationToken.None);

        Assert.Equal([new RunningInstance("qemu/100", "c-8"), new RunningInstance("qemu/101", "c-9")], running.OrderBy(r => r.ExternalId));
        Assert.Null(await provisioner.GetAsync("c-10", CancellationToken.None));
        AssertContractKept();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_id_taken_between_nextid_and_the_clone_gets_a_new_id_and_the_other_vm_is_left_alone(bool inTask)
    {
        StandIn.TakeIdBeforeNextClone(inTask);

        var outcome = await Provisioner().ProvisionAsync(WorkFor("c-11"), CancellationToken.None);

        Assert.Equal("qemu/101", Assert.IsType<ProvisionOutcome.Provisioned>(outcome).Server.ExternalId);
        var other = Assert.Single(StandIn.Vms, v => v.Vmid == 100);
        Assert.Equal(("someone-elses-vm", "stopped"), (other.Name, other.Status));
        Assert.Equal(2, StandIn.Requests.Count(r => r.Endpoint == Clone));
        Assert.Contains(logs.Entries, e => e.EventId.Id == 141 && e.Message.Contains("already exists", StringComparison.Ordinal));
        Assert.DoesNotContain(StandIn.Requests, r => r.Method == "DELETE");
        AssertContractKept();
    }

    [Fact]
    public async Task A_5xx_keeps_proxmoxs_status_and_message_makes_nothing_and_the_next_try_provisions_once()
    {
        StandIn.FailNext(Clone, 503, "proxy loop detected");
        var provisioner = Provisioner();

        var failed = await Assert.ThrowsAsync<ProxmoxApiException>(() => provisioner.ProvisionAsync(WorkFor("c-12"), CancellationToken.None));
        Assert.Equal(503, failed.Status);
        Assert.Equal("Proxmox POST /nodes/pve1/qemu/9000/clone answered 503: proxy loop detected", failed.Message);
        Assert.Single(StandIn.Vms);

        Assert.IsType<ProvisionOutcome.Provisioned>(await provisioner.ProvisionAsync(WorkFor("c-12"), CancellationToken.None));
        Assert.Single(StandIn.Vms, v => !v.Template);
        AssertContractKept();
    }

    [Fact]
    public async Task A_clone_whose_answer_was_lost_is_found_by_its_name_and_finished_not_cloned_again()
    {
        StandIn.FailNext(Clone, 500, "got timeout", afterApplying: true);
        var provisioner = Provisioner();

        await Assert.ThrowsAsync<ProxmoxApiException>(() => provisioner.ProvisionAsync(WorkFor("c-13"), CancellationToken.None));
        var outcome = await provisioner.ProvisionAsync(WorkFor("c-13"), CancellationToken.None);

        Assert.Equal("qemu/100", Assert.IsType<ProvisionOutcome.Provisioned>(outcome).Server.ExternalId);
        Assert.Equal(1, StandIn.Requests.Count(r => r.Endpoint == Clone && r.Status != 400));
        Assert.Single(StandIn.Vms, v => !v.Template);
        AssertContractKept();
    }

    [Fact]
    public async Task A_call_that_does_not_answer_in_time_fails_with_a_timeout_and_makes_nothing()
    {
        var options = StandIn.Options();
        options.RequestTimeoutSeconds = 1;
        StandIn.DelayNext("GET /cluster/nextid", TimeSpan.FromSeconds(10));

        var failed = await Assert.ThrowsAsync<TimeoutException>(() => Provisioner(options).ProvisionAsync(WorkFor("c-14"), CancellationToken.None));

        Assert.Equal("Proxmox GET /cluster/nextid did not answer within 1 s.", failed.Message);
        Assert.Single(StandIn.Vms);
        AssertContractKept();
    }

    [Fact]
    public async Task A_failed_start_task_keeps_proxmoxs_exit_status_and_destroys_the_vm_it_made()
    {
        StandIn.FailNextTask("qmstart", "start failed: QEMU exited with code 1");

        var failed = await Assert.ThrowsAsync<ProxmoxTaskException>(() => Provisioner().ProvisionAsync(WorkFor("c-15"), CancellationToken.None));

        Assert.Equal("start failed: QEMU exited with code 1", failed.ExitStatus);
        Assert.StartsWith("Proxmox task start of VM 100 failed: start failed: QEMU exited with code 1 (task UPID:pve1:", failed.Message, StringComparison.Ordinal);
        Assert.Equal([ProxmoxStandIn.TemplateVmid], StandIn.Vms.Select(v => v.Vmid));
        Assert.Contains(logs.Entries, e => e.EventId.Id == 146);
        AssertContractKept();
    }

    [Fact]
    public async Task A_clone_task_that_fails_half_way_has_its_vm_destroyed()
    {
        StandIn.FailNextTask("qmclone", "clone failed: no space left on device");

        var failed = await Assert.ThrowsAsync<ProxmoxTaskException>(() => Provisioner().ProvisionAsync(WorkFor("c-16"), CancellationToken.None));

        Assert.Equal("clone failed: no space left on device", failed.ExitStatus);
        Assert.Equal([ProxmoxStandIn.TemplateVmid], StandIn.Vms.Select(v => v.Vmid));
        AssertContractKept();
    }

    [Fact]
    public async Task A_configuration_refused_after_the_clone_destroys_the_clone_and_keeps_the_error()
    {
        StandIn.FailNext(Config, 500, "unable to parse value of 'ipconfig0'");

        var failed = await Assert.ThrowsAsync<ProxmoxApiException>(() => Provisioner().ProvisionAsync(WorkFor("c-17"), CancellationToken.None));

        Assert.Equal((500, "unable to parse value of 'ipconfig0'"), (failed.Status, failed.ProxmoxMessage));
        Assert.Equal([ProxmoxStandIn.TemplateVmid], StandIn.Vms.Select(v => v.Vmid));
        AssertContractKept();
    }

    [Fact]
    public async Task A_guest_agent_that_never_reports_an_address_fails_the_provisioning_and_the_vm_is_destroyed()
    {
        var options = StandIn.Options();
        options.GuestAgentTimeoutSeconds = 1;
        StandIn.GuestAgentMissing = true;

        var failed = await Assert.ThrowsAsync<TimeoutException>(() => Provisioner(options).ProvisionAsync(WorkFor("c-18"), CancellationToken.None));

        Assert.Contains("QEMU guest agent is not running", failed.Message, StringComparison.Ordinal);
        Assert.Equal([ProxmoxStandIn.TemplateVmid], StandIn.Vms.Select(v => v.Vmid));
        AssertContractKept();
    }

    [Fact]
    public async Task After_a_crash_during_the_clone_the_next_run_finishes_that_vm_instead_of_making_a_second()
    {
        StandIn.HoldTasks = true;
        using var crash = new CancellationTokenSource();
        var first = Provisioner().ProvisionAsync(WorkFor("c-19"), crash.Token);
        await Eventually.HoldsAsync(() => StandIn.Requests.Any(r => r.Endpoint == "GET /nodes/{node}/tasks/{upid}/status"), "the agent follows the clone task");
        await crash.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.Equal("clone", StandIn.Vms.Single(v => v.Vmid == 100).Lock);

        StandIn.HoldTasks = false;
        var outcome = await Provisioner().ProvisionAsync(WorkFor("c-19"), CancellationToken.None);

        Assert.Equal("qemu/100", Assert.IsType<ProvisionOutcome.Provisioned>(outcome).Server.ExternalId);
        Assert.Single(StandIn.Vms, v => !v.Template);
        Assert.Single(StandIn.Requests, r => r.Endpoint == Clone);
        Assert.Contains(logs.Entries, e => e.EventId.Id == 142);
        AssertContractKept();
    }

    [Fact]
    public async Task A_vm_already_running_for_the_contract_is_restarted_with_a_new_password_not_cloned_again()
    {
        StandIn.AddVm(150, "dc-c-20", "running", tags: "decent-cloud;dc-c-20");

        var outcome = await Provisioner().ProvisionAsync(WorkFor("c-20"), CancellationToken.None);

        var server = Assert.IsType<ProvisionOutcome.Provisioned>(outcome).Server;
        Assert.Equal("qemu/150", server.ExternalId);
        var vm = Assert.Single(StandIn.Vms, v => !v.Template);
        Assert.Equal((server.Password, "running"), (vm.Config["cipassword"], vm.Status));
        Assert.DoesNotContain(StandIn.Requests, r => r.Endpoint == Clone);
        // Cloud-init applies the new password at boot, so the VM was stopped before its configuration changed.
        var calls = StandIn.Requests.Select(r => r.Endpoint).ToList();
        Assert.True(calls.IndexOf("POST /nodes/{node}/qemu/{vmid}/status/stop") < calls.IndexOf(Config));
        AssertContractKept();
    }

    [Fact]
    public async Task A_certificate_other_than_the_pinned_one_is_refused_before_anything_is_sent()
    {
        const string other = "2B:7E:15:16:28:AE:D2:A6:AB:F7:15:88:09:CF:4F:3C:76:2E:71:60:F3:8B:4D:A5:6A:78:4D:90:45:19:0C:FE";
        var provisioner = Provisioner(StandIn.Options(fingerprint: other));

        var failed = await Assert.ThrowsAsync<HttpRequestException>(() => provisioner.ProvisionAsync(WorkFor("c-21"), CancellationToken.None));
        var doctor = await provisioner.VerifySetupAsync(CancellationToken.None);

        Assert.Contains($"presented a certificate with SHA-256 fingerprint {StandIn.Fingerprint}", failed.Message, StringComparison.Ordinal);
        Assert.Contains($"but [proxmox] fingerprint is {other}", failed.Message, StringComparison.Ordinal);
        Assert.Empty(StandIn.Requests);
        var check = Assert.Single(doctor);
        Assert.Equal(SetupCheckLevel.Error, check.Level);
        Assert.Contains("fingerprint", check.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_token_and_the_password_never_appear_in_logs_or_errors()
    {
        var provisioner = Provisioner();
        var server = Assert.IsType<ProvisionOutcome.Provisioned>(await provisioner.ProvisionAsync(WorkFor("c-22"), CancellationToken.None)).Server;
        StandIn.FailNext(Config, 500, "storage error");
        var failed = await Assert.ThrowsAsync<ProxmoxApiException>(() => provisioner.ProvisionAsync(WorkFor("c-23"), CancellationToken.None));
        await provisioner.VerifySetupAsync(CancellationToken.None);
        await provisioner.TerminateAsync("c-22", server.ExternalId, CancellationToken.None);

        Assert.Contains(logs.Entries, e => e.EventId.Id == 151);
        foreach (var secret in new[] { ProxmoxStandIn.TokenSecret, server.Password })
        {
            Assert.DoesNotContain(logs.Entries, e => e.Message.Contains(secret, StringComparison.Ordinal) || (e.Exception?.ToString().Contains(secret, StringComparison.Ordinal) ?? false));
            Assert.DoesNotContain(secret, failed.ToString(), StringComparison.Ordinal);
        }
        AssertContractKept();
    }

    [Fact]
    public async Task Doctor_says_the_token_works_and_each_offerings_template_is_a_template_on_its_node()
    {
        var checks = await Provisioner().VerifySetupAsync(CancellationToken.None);

        Assert.Equal(
            [
                (SetupCheckLevel.Ok, $"proxmox: https://127.0.0.1:{StandIn.BaseAddress.Port} accepts the API token dc-agent@pve!agent (Proxmox VE 9.1.1); its certificate matches the pinned fingerprint"),
                (SetupCheckLevel.Ok, "proxmox: offering 'vm-small' clones template 9000 (debian-12-cloud) on node 'pve1'"),
            ],
            checks.Select(c => (c.Level, c.Message)));
        AssertContractKept();
    }

    [Fact]
    public async Task Doctor_says_exactly_what_is_wrong_with_each_offering()
    {
        StandIn.AddVm(120, "plain-vm");
        StandIn.AddVm(9001, "ubuntu-template", node: ProxmoxStandIn.OtherNode, template: true);
        var options = StandIn.Options();
        options.Offerings["missing"] = new ProxmoxOfferingOptions { TemplateVmid = 9999 };
        options.Offerings["not-a-template"] = new ProxmoxOfferingOptions { TemplateVmid = 120 };
        options.Offerings["wrong-node"] = new ProxmoxOfferingOptions { TemplateVmid = 9001 };

        var checks = await Provisioner(options).VerifySetupAsync(CancellationToken.None);

        Assert.Equal(
            [
                (SetupCheckLevel.Error, "proxmox: offering 'missing': template 9999 does not exist, or the token lacks VM.Audit on /vms/9999 (proxmox.offerings.missing.template_vmid)"),
                (SetupCheckLevel.Error, "proxmox: offering 'not-a-template': VM 120 (plain-vm) is not a template; convert it with 'qm template 120' or name a template in proxmox.offerings.not-a-template.template_vmid"),
                (SetupCheckLevel.Ok, "proxmox: offering 'vm-small' clones template 9000 (debian-12-cloud) on node 'pve1'"),
                (SetupCheckLevel.Error, "proxmox: offering 'wrong-node': template 9001 is on node 'pve2', not on 'pve1' (proxmox.offerings.wrong-node.node or proxmox.node)"),
            ],
            checks.Skip(1).Select(c => (c.Level, c.Message)));
        AssertContractKept();
    }

    [Fact]
    public async Task Doctor_reports_a_refused_token()
    {
        var checks = await Provisioner(StandIn.Options(tokenId: "dc-agent@pve!other")).VerifySetupAsync(CancellationToken.None);

        var check = Assert.Single(checks);
        Assert.Equal(SetupCheckLevel.Error, check.Level);
        Assert.StartsWith("proxmox: https://127.0.0.1:", check.Message, StringComparison.Ordinal);
        Assert.Contains("refused the API token dc-agent@pve!other (401 authentication failure)", check.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Free_resources_are_each_nodes_cpus_load_and_memory()
    {
        var resources = await Provisioner().CollectResourcesAsync(CancellationToken.None);

        var node = resources!.Value.GetProperty("nodes").GetProperty("pve1");
        Assert.Equal(16, node.GetProperty("cpus").GetInt32());
        Assert.Equal(ProxmoxStandIn.NodeMemoryBytes, node.GetProperty("memoryTotalBytes").GetInt64());
        Assert.True(node.GetProperty("memoryFreeBytes").GetInt64() < ProxmoxStandIn.NodeMemoryBytes);
        AssertContractKept();
    }

    [Fact]
    public async Task Work_for_an_offering_without_a_section_fails_with_the_reason_and_calls_nothing()
    {
        var outcome = await Provisioner().ProvisionAsync(WorkFor("c-24") with { OfferingId = "big-gpu" }, CancellationToken.None);

        Assert.Equal("offering 'big-gpu' has no [proxmox.offerings.\"big-gpu\"] section in the agent's config", Assert.IsType<ProvisionOutcome.Failed>(outcome).Reason);
        Assert.Empty(StandIn.Requests);
    }

    private ProxmoxProvisioner Provisioner(ProxmoxOptions? options = null)
    {
        options ??= StandIn.Options();
        var logger = loggers.CreateLogger<ProxmoxProvisioner>();
        var (http, pin) = ProxmoxClient.CreateHttpClient(options, ProxmoxStandIn.TokenSecret);
        var fast = new ProxmoxTimings(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(20));
        return new ProxmoxProvisioner(options, new ProxmoxClient(http, pin, logger), fast, TimeProvider.System, logger);
    }

    /// <summary>A client that trusts the stand-in's certificate and carries the token, for calling the stand-in directly.</summary>
    private HttpClient StandInClient()
    {
        var (http, _) = ProxmoxClient.CreateHttpClient(StandIn.Options(), ProxmoxStandIn.TokenSecret);
        http.BaseAddress = new Uri(StandIn.BaseAddress.GetLeftPart(UriPartial.Authority) + "/");
        return http;
    }

    private static Work WorkFor(string contractId, string? sshKey = RenterKey) => new(contractId, "vm-small", "ab", sshKey, 24, "accepted", DateTimeOffset.UnixEpoch);

    private static InstanceReport Instance(string externalId) =>
        new(externalId, "10.10.0.100", null, null, 22, "dc", new SealedCredentials(1, "", "", "", ""));

    private void AssertContractKept()
    {
        Assert.Empty(StandIn.Violations);
        Assert.Empty(StandIn.AnswerProblems);
    }
}
