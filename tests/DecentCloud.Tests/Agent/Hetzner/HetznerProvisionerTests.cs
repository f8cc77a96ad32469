using System.Security.Cryptography;
using DecentCloud.Agent.Api;
using DecentCloud.Agent.Provisioners;
using DecentCloud.Agent.Provisioners.Hetzner;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Agent.Hetzner;

/// <summary>The Hetzner provisioner against <see cref="HetznerStandIn"/>; every test ends with the stand-in seeing no contract violation.</summary>
public sealed class HetznerProvisionerTests : IAsyncLifetime, IDisposable
{
    private const string ContractId = "0197a0c4e5f67b8c9d0e1f2a3b4c5d6e";
    private static readonly HetznerTiming FastTiming = new(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(10));

    private HetznerStandIn standIn = null!;
    private CapturedLogs logs = null!;
    private ILoggerFactory loggers = null!;

    private static string RenterKey { get; } = NewSshKey();

    public async Task InitializeAsync()
    {
        standIn = await HetznerStandIn.StartAsync();
        logs = new CapturedLogs();
        loggers = LoggerFactory.Create(builder => builder.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
    }

    public async Task DisposeAsync() => await standIn.DisposeAsync();

    public void Dispose()
    {
        loggers.Dispose();
        logs.Dispose();
    }

    [Fact]
    public async Task Provision_uploads_the_renters_key_and_makes_a_labelled_server_with_its_password_set_by_cloud_init()
    {
        var provisioner = Provisioner();

        var outcome = await provisioner.ProvisionAsync(Work(), CancellationToken.None);

        var server = Assert.IsType<ProvisionOutcome.Provisioned>(outcome).Server;
        var made = Assert.Single(standIn.Servers);
        var key = Assert.Single(standIn.SshKeys);
        Assert.Equal(made.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), server.ExternalId);
        Assert.Equal("running", made.Status);
        Assert.Equal(("cx22", "ubuntu-24.04", "nbg1"), (made.ServerType, made.Image, made.Location));
        Assert.Equal(ContractId, made.Labels[HetznerProvisioner.ContractLabel]);
        Assert.Equal("dc-" + ContractId, made.Name);
        Assert.Equal(ContractId, key.Labels[HetznerProvisioner.ContractLabel]);
        Assert.Equal(HetznerStandIn.Fingerprint(RenterKey), key.Fingerprint);
        Assert.Equal([key.Id], made.SshKeys);
        Assert.StartsWith("#cloud-config\n", made.UserData, StringComparison.Ordinal);
        Assert.Contains($"password: \"{server.Password}\"", made.UserData, StringComparison.Ordinal);
        Assert.Equal(24, server.Password.Length);
        Assert.Matches(@"^203\.0\.113\.\d+$", server.Ipv4);
        Assert.EndsWith("::1", server.Ipv6, StringComparison.Ordinal);
        Assert.Equal((22, "root"), (server.SshPort, server.SshUser));
        Assert.All(standIn.Requests, request => Assert.True(request.Authorized));
        AssertNoViolations();
    }

    [Fact]
    public async Task Provision_without_an_ssh_key_makes_a_password_only_server()
    {
        var outcome = await Provisioner().ProvisionAsync(Work() with { SshKey = null }, CancellationToken.None);

        Assert.IsType<ProvisionOutcome.Provisioned>(outcome);
        Assert.Empty(standIn.SshKeys);
        Assert.Empty(Assert.Single(standIn.Servers).SshKeys);
        AssertNoViolations();
    }

    [Fact]
    public async Task Health_follows_the_servers_status_and_its_absence()
    {
        var provisioner = Provisioner();
        var server = ((ProvisionOutcome.Provisioned)await provisioner.ProvisionAsync(Work(), CancellationToken.None)).Server;

        var running = await provisioner.CheckHealthAsync(Instance(server.ExternalId), CancellationToken.None);
        await provisioner.StopAsync(ContractId, server.ExternalId, CancellationToken.None);
        var off = await provisioner.CheckHealthAsync(Instance(server.ExternalId), CancellationToken.None);
        await provisioner.TerminateAsync(ContractId, server.ExternalId, CancellationToken.None);
        var gone = await provisioner.CheckHealthAsync(Instance(server.ExternalId), CancellationToken.None);

        Assert.Equal(HealthStatus.Healthy, running.Status);
        Assert.Equal((HealthStatus.Unhealthy, $"Hetzner server {server.ExternalId} is off"), (off.Status, off.Details));
        Assert.Equal((HealthStatus.Unhealthy, $"Hetzner server {server.ExternalId} does not exist"), (gone.Status, gone.Details));
        AssertNoViolations();
    }

    [Fact]
    public async Task Stop_powers_the_server_off_and_keeps_it_and_a_second_stop_sends_nothing()
    {
        var provisioner = Provisioner();
        await provisioner.ProvisionAsync(Work(), CancellationToken.None);

        Assert.Equal(StopOutcome.Stopped, await provisioner.StopAsync(ContractId, null, CancellationToken.None));
        Assert.Equal(StopOutcome.Stopped, await provisioner.StopAsync(ContractId, null, CancellationToken.None));

        Assert.Equal("off", Assert.Single(standIn.Servers).Status);
        Assert.Single(standIn.Requests, r => r.Method == "POST" && r.Path.EndsWith("/actions/poweroff", StringComparison.Ordinal));
        Assert.Contains(logs.Entries, e => e.EventId.Id == 132);
        AssertNoViolations();
    }

    [Fact]
    public async Task Terminate_deletes_the_server_and_the_key_uploaded_for_it_and_counts_a_404_as_gone()
    {
        var provisioner = Provisioner();
        await provisioner.ProvisionAsync(Work(), CancellationToken.None);
        var serverId = Assert.Single(standIn.Servers).Id;
        standIn.Inject("DELETE", "/servers/", new HetznerFault.Error(404, "not_found", $"server with ID '{serverId}' not found"));

        Assert.Equal(TerminateOutcome.Terminated, await provisioner.TerminateAsync(ContractId, null, CancellationToken.None));
        Assert.Empty(standIn.SshKeys);
        Assert.Contains(logs.Entries, e => e.EventId.Id == 130);

        // The server the 404 hid is still listed by its label: the next termination deletes it.
        Assert.Equal(TerminateOutcome.Terminated, await provisioner.TerminateAsync(ContractId, null, CancellationToken.None));
        Assert.Empty(standIn.Servers);
        Assert.Null(await provisioner.GetAsync(ContractId, CancellationToken.None));
        Assert.Equal(TerminateOutcome.Terminated, await provisioner.TerminateAsync(ContractId, null, CancellationToken.None));
        AssertNoViolations();
    }

    [Fact]
    public async Task List_running_pages_through_every_labelled_server_and_get_finds_one_by_its_contract()
    {
        for (var i = 0; i < 60; i++)
        {
            standIn.AddServer($"dc-c{i}", new Dictionary<string, string> { [HetznerProvisioner.ContractLabel] = $"c{i}" });
        }
        standIn.AddServer("someone-elses", new Dictionary<string, string> { ["team"] = "web" });
        var provisioner = Provisioner();

        var running = await provisioner.ListRunningAsync(CancellationToken.None);
        var one = await provisioner.GetAsync("c42", CancellationToken.None);

        Assert.Equal(60, running.Count);
        Assert.Equal(Enumerable.Range(0, 60).Select(i => $"c{i}").Order(StringComparer.Ordinal), running.Select(r => r.ContractId!).Order(StringComparer.Ordinal));
        Assert.Equal(2, standIn.Requests.Count(r => r.Path == "/v1/servers" && r.Method == "GET" && r.Query.Contains("label_selector=decent-cloud-contract&", StringComparison.Ordinal)));
        Assert.Contains(standIn.Requests, r => r.Query.Contains("page=2&per_page=50", StringComparison.Ordinal));
        Assert.Equal(standIn.Servers.Single(s => s.Name == "dc-c42").Id.ToString(System.Globalization.CultureInfo.InvariantCulture), one?.ExternalId);
        AssertNoViolations();
    }

    [Fact]
    public async Task A_429_waits_for_the_rate_limit_to_refill_and_the_request_goes_through()
    {
        standIn.Inject("POST", "/servers", new HetznerFault.RateLimited());

        var outcome = await Provisioner().ProvisionAsync(Work(), CancellationToken.None);

        Assert.IsType<ProvisionOutcome.Provisioned>(outcome);
        Assert.Single(standIn.Servers);
        var creates = standIn.Requests.Where(r => r.Method == "POST" && r.Path == "/v1/servers").ToList();
        Assert.Equal(2, creates.Count);
        // 3600 requests an hour come back one a second: the retry waits for one (not the hour the full bucket takes).
        Assert.InRange(creates[1].At - creates[0].At, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(3));
        Assert.Contains(logs.Entries, e => e.EventId.Id == 121);
        AssertNoViolations();
    }

    [Fact]
    public async Task Server_errors_on_reads_are_retried_with_back_off()
    {
        standIn.Inject("GET", "/servers", new HetznerFault.Error(503, "unavailable", "service unavailable"), times: 2);

        var outcome = await Provisioner().ProvisionAsync(Work(), CancellationToken.None);

        Assert.IsType<ProvisionOutcome.Provisioned>(outcome);
        Assert.Equal(2, logs.Entries.Count(e => e.EventId.Id == 120));
        AssertNoViolations();
    }

    [Fact]
    public async Task Server_errors_past_the_retries_keep_hetzners_code_and_message()
    {
        standIn.Inject("GET", "/servers", new HetznerFault.Error(500, "server_error", "the database is on fire"), times: 10);

        var failure = await Assert.ThrowsAsync<HetznerApiException>(() => Provisioner(maxRetries: 2).ProvisionAsync(Work(), CancellationToken.None));

        Assert.Equal(("server_error", "the database is on fire", 500), (failure.Code, failure.ApiMessage, failure.Status));
        Assert.Contains("500 server_error: the database is on fire", failure.Message, StringComparison.Ordinal);
        Assert.Equal(3, standIn.Requests.Count(r => r.Method == "GET" && r.Path == "/v1/servers"));
        AssertNoViolations();
    }

    [Fact]
    public async Task A_create_answered_with_a_5xx_after_it_was_done_is_found_by_its_label_and_not_made_twice()
    {
        standIn.Inject("POST", "/servers", new HetznerFault.DoneThenServerError());

        var outcome = await Provisioner().ProvisionAsync(Work(), CancellationToken.None);

        var server = Assert.IsType<ProvisionOutcome.Provisioned>(outcome).Server;
        var made = Assert.Single(standIn.Servers);
        Assert.Single(standIn.Requests, r => r.Method == "POST" && r.Path == "/v1/servers");
        Assert.Contains($"password: \"{server.Password}\"", made.UserData, StringComparison.Ordinal);
        Assert.Contains(logs.Entries, e => e.EventId.Id == 133);
        AssertNoViolations();
    }

    [Fact]
    public async Task A_create_that_times_out_is_found_by_its_label_and_a_slow_read_is_sent_again()
    {
        standIn.Inject("POST", "/servers", new HetznerFault.Slow(TimeSpan.FromSeconds(2.5)));
        standIn.Inject("GET", "/ssh_keys", new HetznerFault.Slow(TimeSpan.FromSeconds(2.5)));
        var provisioner = Provisioner();

        var outcome = await provisioner.ProvisionAsync(Work(), CancellationToken.None);
        var terminated = await provisioner.TerminateAsync(ContractId, null, CancellationToken.None);

        Assert.IsType<ProvisionOutcome.Provisioned>(outcome);
        Assert.Single(standIn.Requests, r => r.Method == "POST" && r.Path == "/v1/servers");
        Assert.Equal(TerminateOutcome.Terminated, terminated);
        Assert.Empty(standIn.Servers);
        Assert.Empty(standIn.SshKeys);
        Assert.Contains(logs.Entries, e => e.EventId.Id == 120 && e.Message.Contains("no answer within 1 s", StringComparison.Ordinal));
        AssertNoViolations();
    }

    [Fact]
    public async Task A_server_whose_create_action_fails_is_deleted_with_its_key_and_the_contract_fails_with_hetzners_error()
    {
        standIn.FailNextCreateAction = ("server_create_failed", "the host ran out of disks");

        var outcome = await Provisioner().ProvisionAsync(Work(), CancellationToken.None);

        var failed = Assert.IsType<ProvisionOutcome.Failed>(outcome);
        Assert.Contains("server_create_failed: the host ran out of disks", failed.Reason, StringComparison.Ordinal);
        Assert.Empty(standIn.Servers);
        Assert.Empty(standIn.SshKeys);
        Assert.Contains(logs.Entries, e => e.EventId.Id == 127);
        AssertNoViolations();
    }

    [Fact]
    public async Task A_create_refused_after_the_key_was_uploaded_removes_the_key_and_fails_with_hetzners_error()
    {
        standIn.Inject("POST", "/servers", new HetznerFault.Error(412, "resource_unavailable", "server type cx22 is unavailable in nbg1"));

        var outcome = await Provisioner().ProvisionAsync(Work(), CancellationToken.None);

        var failed = Assert.IsType<ProvisionOutcome.Failed>(outcome);
        Assert.Contains("412 resource_unavailable: server type cx22 is unavailable in nbg1", failed.Reason, StringComparison.Ordinal);
        Assert.Empty(standIn.Servers);
        Assert.Empty(standIn.SshKeys);
        AssertNoViolations();
    }

    [Fact]
    public async Task A_create_that_gets_no_answer_at_all_removes_the_key_and_is_tried_again_on_the_next_poll()
    {
        standIn.Inject("POST", "/servers", new HetznerFault.Error(503, "unavailable", "maintenance window"), times: 3);
        var provisioner = Provisioner();

        await Assert.ThrowsAsync<HetznerApiException>(() => provisioner.ProvisionAsync(Work(), CancellationToken.None));
        Assert.Empty(standIn.SshKeys);
        Assert.Empty(standIn.Servers);

        Assert.IsType<ProvisionOutcome.Provisioned>(await provisioner.ProvisionAsync(Work(), CancellationToken.None));
        Assert.Single(standIn.Servers);
        AssertNoViolations();
    }

    [Fact]
    public async Task A_server_already_there_after_a_crash_is_used_with_a_new_password_and_no_second_one_is_made()
    {
        var existing = standIn.AddServer("dc-" + ContractId, new Dictionary<string, string> { [HetznerProvisioner.ContractLabel] = ContractId }, status: "starting");

        var outcome = await Provisioner().ProvisionAsync(Work(), CancellationToken.None);

        var server = Assert.IsType<ProvisionOutcome.Provisioned>(outcome).Server;
        Assert.Equal(existing.ToString(System.Globalization.CultureInfo.InvariantCulture), server.ExternalId);
        Assert.Single(standIn.Servers);
        Assert.DoesNotContain(standIn.Requests, r => r.Method == "POST" && r.Path == "/v1/servers");
        Assert.Single(standIn.Requests, r => r.Path == $"/v1/servers/{existing}/actions/reset_password");
        Assert.Contains(logs.Entries, e => e.EventId.Id == 126);
        AssertNoViolations();
    }

    [Fact]
    public async Task A_key_taken_by_fingerprint_or_by_an_earlier_try_is_used_and_only_the_contracts_own_key_is_deleted()
    {
        var renters = standIn.AddSshKey("renter-laptop", RenterKey, new Dictionary<string, string>());
        var provisioner = Provisioner();

        await provisioner.ProvisionAsync(Work(), CancellationToken.None);
        Assert.Equal([renters], Assert.Single(standIn.Servers).SshKeys);
        await provisioner.TerminateAsync(ContractId, null, CancellationToken.None);
        Assert.Single(standIn.SshKeys, k => k.Id == renters);

        var other = NewSshKey();
        var earlier = standIn.AddSshKey("decent-cloud-" + ContractId, other, new Dictionary<string, string> { [HetznerProvisioner.ContractLabel] = ContractId });
        await provisioner.ProvisionAsync(Work() with { SshKey = other }, CancellationToken.None);
        Assert.Equal([earlier], Assert.Single(standIn.Servers).SshKeys);
        Assert.Equal(2, logs.Entries.Count(e => e.EventId.Id == 123));
        AssertNoViolations();
    }

    [Fact]
    public async Task The_token_never_appears_in_logs_or_errors()
    {
        var provisioner = Provisioner(maxRetries: 1);
        standIn.Inject("GET", "/servers", new HetznerFault.Error(503, "unavailable", "busy"));
        standIn.Inject("POST", "/ssh_keys", new HetznerFault.RateLimited());
        standIn.FailNextCreateAction = ("server_create_failed", "no");
        var failed = await provisioner.ProvisionAsync(Work(), CancellationToken.None);
        standIn.Inject("GET", "/servers", new HetznerFault.Error(500, "server_error", "down"), times: 5);
        var thrown = await Assert.ThrowsAsync<HetznerApiException>(() => provisioner.ProvisionAsync(Work(), CancellationToken.None));
        var doctor = await Provisioner(token: "wrong-" + HetznerStandIn.Token).VerifySetupAsync(CancellationToken.None);

        var everything = logs.Entries.Select(e => $"{e.Message} {e.Exception}")
            .Append(((ProvisionOutcome.Failed)failed).Reason).Append(thrown.ToString())
            .Concat(doctor.Select(c => c.Message));
        Assert.All(everything, text => Assert.DoesNotContain(HetznerStandIn.Token, text, StringComparison.Ordinal));
        Assert.NotEmpty(logs.Entries);
        AssertNoViolations();
    }

    [Fact]
    public async Task Doctor_says_the_token_works_may_write_and_each_offerings_type_image_and_location_exist()
    {
        var checks = await Provisioner().VerifySetupAsync(CancellationToken.None);

        Assert.All(checks, check => Assert.Equal(SetupCheckLevel.Ok, check.Level));
        Assert.Contains(checks, c => c.Message.StartsWith("hetzner: the API token works", StringComparison.Ordinal));
        Assert.Contains(checks, c => c.Message == "hetzner: the API token may write (Read & Write)");
        Assert.Contains(checks, c => c.Message == "hetzner: offering 'small-vm': the server type 'cx22' exists (x86)");
        Assert.Contains(checks, c => c.Message == "hetzner: offering 'arm-vm': the image 'debian-12' is available");
        Assert.Contains(checks, c => c.Message == "hetzner: offering 'small-vm': the location 'nbg1' exists");
        AssertNoViolations();
    }

    [Fact]
    public async Task Doctor_names_a_read_only_token_a_refused_token_and_each_wrong_offering_setting()
    {
        var offerings = new Dictionary<string, HetznerOffering>(StringComparer.Ordinal)
        {
            ["typo"] = new() { ServerType = "cx99", Image = "ubuntu-24.04", Location = "nbg1" },
            ["bad-image"] = new() { ServerType = "cax11", Image = "windows-11", Location = "mars1" },
            ["not-there"] = new() { ServerType = "cax11", Image = "debian-12", Location = "hel1" },
            ["old"] = new() { ServerType = "cx11", Image = "debian-12" },
        };

        var readOnly = await Provisioner(token: HetznerStandIn.ReadOnlyToken, offerings: offerings).VerifySetupAsync(CancellationToken.None);
        var refused = await Provisioner(token: "not-a-token").VerifySetupAsync(CancellationToken.None);

        Assert.Equal(
            [
                "hetzner: the API token is read-only (token_readonly: The token you are using is read only. Please use a token with read & write permissions.); it cannot create servers: create a Read & Write token for the project",
                "hetzner: offering 'typo': the server type 'cx99' does not exist (hetzner.offerings.typo.server_type)",
                "hetzner: offering 'bad-image': the image 'windows-11' does not exist for arm servers (hetzner.offerings.bad-image.image)",
                "hetzner: offering 'bad-image': the location 'mars1' does not exist (hetzner.offerings.bad-image.location)",
                "hetzner: offering 'not-there': the server type 'cax11' is not available in 'hel1'",
            ],
            readOnly.Where(c => c.Level == SetupCheckLevel.Error).Select(c => c.Message));
        Assert.Contains(readOnly, c => c.Level == SetupCheckLevel.Warning && c.Message == "hetzner: offering 'old': the server type 'cx11' is deprecated: Hetzner will stop offering it");
        var only = Assert.Single(refused);
        Assert.Equal(SetupCheckLevel.Error, only.Level);
        Assert.StartsWith("hetzner: the API token is refused (Hetzner API GET servers?label_selector=decent-cloud-contract&page=1&per_page=50 answered 401 unauthorized: unable to authenticate)", only.Message, StringComparison.Ordinal);
        AssertNoViolations();
    }

    [Fact]
    public async Task Provisioning_with_a_read_only_token_is_refused_and_tried_again_rather_than_failing_the_contract()
    {
        var failure = await Assert.ThrowsAsync<HetznerApiException>(() => Provisioner(token: HetznerStandIn.ReadOnlyToken).ProvisionAsync(Work(), CancellationToken.None));

        Assert.Equal("token_readonly", failure.Code);
        Assert.Empty(standIn.Servers);
        AssertNoViolations();
    }

    [Fact]
    public async Task An_offering_without_a_section_is_refused_with_the_section_to_add()
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => Provisioner().ProvisionAsync(Work() with { OfferingId = "gpu-box" }, CancellationToken.None));

        Assert.Contains("[hetzner.offerings.\"gpu-box\"]", failure.Message, StringComparison.Ordinal);
        Assert.Empty(standIn.Requests);
    }

    private HetznerProvisioner Provisioner(string token = HetznerStandIn.Token, int maxRetries = 3, Dictionary<string, HetznerOffering>? offerings = null) =>
        HetznerProvisioner.Create(new HetznerOptions
        {
            Token = token,
            ApiBaseUrl = standIn.BaseUrl,
            RequestTimeoutSeconds = 1,
            MaxRetries = maxRetries,
            ActionTimeoutSeconds = 30,
            Offerings = offerings ?? new(StringComparer.Ordinal)
            {
                ["small-vm"] = new() { ServerType = "cx22", Image = "ubuntu-24.04", Location = "nbg1" },
                ["arm-vm"] = new() { ServerType = "cax11", Image = "debian-12" },
            },
        }, TimeProvider.System, loggers, FastTiming);

    private static Work Work() => new(ContractId, "small-vm", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), RenterKey, 24, "accepted", DateTimeOffset.UtcNow);

    private static InstanceReport Instance(string externalId) =>
        new(externalId, null, null, null, 22, "root", new DecentCloud.Shared.Sealing.SealedCredentials(1, "x25519-xchacha20poly1305", "", "", ""));

    private static string NewSshKey()
    {
        var type = "ssh-ed25519"u8.ToArray();
        var blob = new byte[4 + type.Length + 4 + 32];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(blob, type.Length);
        type.CopyTo(blob, 4);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(blob.AsSpan(4 + type.Length), 32);
        RandomNumberGenerator.Fill(blob.AsSpan(8 + type.Length));
        return $"ssh-ed25519 {Convert.ToBase64String(blob)} renter@example";
    }

    private void AssertNoViolations() =>
        Assert.True(standIn.Violations.Count == 0, string.Join(Environment.NewLine, standIn.Violations.Prepend("The stand-in saw contract violations:")));
}
