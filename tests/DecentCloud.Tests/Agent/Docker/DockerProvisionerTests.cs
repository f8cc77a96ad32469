using DecentCloud.Agent.Api;
using DecentCloud.Agent.Provisioners;
using DecentCloud.Agent.Provisioners.Docker;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Agent.Docker;

/// <summary>The Docker provisioner against the Docker stand-in, over a real Unix socket; the stand-in checks every call against the v1.47 spec.</summary>
public sealed class DockerProvisionerTests : IAsyncLifetime, IDisposable
{
    private const string Image = "ghcr.io/example/ubuntu-ssh:24.04";
    private const string Offering = "small-container";
    private const string SshKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM4SmLjN+5JbpBnwySSw+qstvbT+B1vz4L3vuwXZ2/hR alice@laptop";
    private const string PublicHost = "203.0.113.10";

    private readonly CapturedLogs logs = new();
    private readonly SteppingClock clock = new(TimeSpan.FromSeconds(3));
    private DockerStandIn docker = null!;
    private DockerOptions options = null!;
    private DockerProvisioner provisioner = null!;

    public async Task InitializeAsync()
    {
        docker = await DockerStandIn.StartAsync();
        docker.AddImage(Image);
        options = new DockerOptions
        {
            Endpoint = docker.Endpoint,
            PublicHost = PublicHost,
            SshPortRange = "30000-30009",
            PullTimeoutSeconds = 10,
            RequestTimeoutSeconds = 2,
            StopTimeoutSeconds = 1,
            Offerings = { [Offering] = new DockerOfferingOptions { Image = Image, Cpus = 1.5, MemoryMb = 2048, SshUser = "root" } },
        };
        provisioner = Provisioner(options);
    }

    public async Task DisposeAsync()
    {
        Assert.Empty(docker.Violations);
        Assert.All(docker.Requests, request => Assert.StartsWith("/v1.47/", request.Path, StringComparison.Ordinal));
        await docker.DisposeAsync();
    }

    public void Dispose() => logs.Dispose();

    [Fact]
    public async Task Provisioning_pulls_the_image_and_runs_a_container_with_the_offerings_limits_the_renters_key_a_password_and_the_contract_label()
    {
        var outcome = await provisioner.ProvisionAsync(Work("c-1"), CancellationToken.None);

        var server = Assert.IsType<ProvisionOutcome.Provisioned>(outcome).Server;
        var container = Assert.Single(docker.Containers);
        Assert.Equal((container.Id, PublicHost, 30000, "root"), (server.ExternalId, server.Ipv4, server.SshPort, server.SshUser));
        Assert.True(container.Running);
        Assert.Equal("dc-c-1", container.Name);
        Assert.Equal(24, server.Password.Length);
        Assert.All(server.Password, c => Assert.True(char.IsAsciiLetterOrDigit(c)));
        Assert.Equal(server.Password, container.EnvValue("DC_SSH_PASSWORD"));
        Assert.Equal(SshKey, container.EnvValue("DC_SSH_AUTHORIZED_KEYS"));
        Assert.Equal("root", container.EnvValue("DC_SSH_USER"));
        Assert.Equal("c-1", container.Labels[DockerProvisioner.ContractLabel]);
        Assert.Equal(Offering, container.Labels[DockerProvisioner.OfferingLabel]);
        var hostConfig = container.CreateBody["HostConfig"]!;
        Assert.Equal(1_500_000_000, hostConfig["NanoCpus"]!.GetValue<long>());
        Assert.Equal(2048L * 1024 * 1024, hostConfig["Memory"]!.GetValue<long>());
        Assert.Equal("30000-30009", hostConfig["PortBindings"]!["22/tcp"]![0]!["HostPort"]!.GetValue<string>());
        Assert.NotNull(container.CreateBody["ExposedPorts"]!["22/tcp"]);

        // The image was pulled with a tag (never all tags), before the create; progress was logged along the way.
        var pull = Assert.Single(docker.CallsTo("POST /images/create"));
        Assert.Contains("fromImage=ghcr.io%2Fexample%2Fubuntu-ssh", pull.Query, StringComparison.Ordinal);
        Assert.Contains("tag=24.04", pull.Query, StringComparison.Ordinal);
        Assert.Contains(DockerStandIn.Normalize(Image), docker.LocalImages);
        Assert.Contains(logs.Entries, e => e.EventId.Id == 101);
        Assert.Contains(logs.Entries, e => e.EventId.Id == 102);
        // Looked up by its label before anything was made.
        Assert.Equal("GET /containers/json", docker.Requests[0].Operation);
        Assert.Contains("label", Uri.UnescapeDataString(docker.Requests[0].Query), StringComparison.Ordinal);
        AssertNoSecretLogged(server.Password);
    }

    [Fact]
    public async Task A_renter_without_an_ssh_key_gets_password_only_and_a_second_contract_takes_the_next_port()
    {
        var first = Provisioned(await provisioner.ProvisionAsync(Work("c-1"), CancellationToken.None));
        var second = Provisioned(await provisioner.ProvisionAsync(Work("c-2", sshKey: null), CancellationToken.None));

        Assert.Equal((30000, 30001), (first.SshPort, second.SshPort));
        Assert.NotEqual(first.Password, second.Password);
        Assert.Null(docker.Container(second.ExternalId).EnvValue("DC_SSH_AUTHORIZED_KEYS"));
        // The image is pulled for each contract: a moving tag brings its newest build.
        Assert.Equal(2, docker.CallsTo("POST /images/create").Count);
    }

    [Fact]
    public async Task Health_follows_the_container_state_and_its_healthcheck()
    {
        docker.AddImage("ghcr.io/example/with-healthcheck:1", healthcheck: "starting");
        options.Offerings["checked"] = new DockerOfferingOptions { Image = "ghcr.io/example/with-healthcheck:1" };
        var plain = Provisioned(await provisioner.ProvisionAsync(Work("c-1"), CancellationToken.None));
        var checkedServer = Provisioned(await provisioner.ProvisionAsync(Work("c-2", offering: "checked"), CancellationToken.None));

        Assert.Equal(HealthStatus.Healthy, (await Health(plain)).Status);
        Assert.Equal(HealthStatus.Unknown, (await Health(checkedServer)).Status);
        docker.SetHealth(checkedServer.ExternalId, "healthy");
        Assert.Equal(HealthStatus.Healthy, (await Health(checkedServer)).Status);
        docker.SetHealth(checkedServer.ExternalId, "unhealthy", "sshd: no hostkeys available -- exiting.");
        var unhealthy = await Health(checkedServer);
        Assert.Equal(HealthStatus.Unhealthy, unhealthy.Status);
        Assert.Contains("no hostkeys available", unhealthy.Details, StringComparison.Ordinal);

        docker.Exit(plain.ExternalId, 137);
        var exited = await Health(plain);
        Assert.Equal(HealthStatus.Unhealthy, exited.Status);
        Assert.Contains("exited (exit code 137", exited.Details, StringComparison.Ordinal);

        await provisioner.TerminateAsync("c-1", plain.ExternalId, CancellationToken.None);
        var gone = await Health(plain);
        Assert.Equal(HealthStatus.Unhealthy, gone.Status);
        Assert.Contains("does not exist", gone.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stop_keeps_the_container_and_terminate_removes_it_and_both_count_a_repeat_or_a_missing_container_as_done()
    {
        var server = Provisioned(await provisioner.ProvisionAsync(Work("c-1"), CancellationToken.None));

        Assert.Equal(StopOutcome.Stopped, await provisioner.StopAsync("c-1", server.ExternalId, CancellationToken.None));
        Assert.Equal("exited", docker.Container(server.ExternalId).Status);
        Assert.Equal(StopOutcome.Stopped, await provisioner.StopAsync("c-1", server.ExternalId, CancellationToken.None));
        Assert.Equal([204, 304], docker.CallsTo("POST /containers/{id}/stop").Select(r => r.Status));
        Assert.Contains("t=1", docker.CallsTo("POST /containers/{id}/stop")[0].Query, StringComparison.Ordinal);

        Assert.Equal(TerminateOutcome.Terminated, await provisioner.TerminateAsync("c-1", server.ExternalId, CancellationToken.None));
        Assert.Empty(docker.Containers);
        var removal = Assert.Single(docker.CallsTo("DELETE /containers/{id}"));
        Assert.Contains("force=true", removal.Query, StringComparison.Ordinal);

        // Gone already (removed by hand, or a repeat after a crash): 404 counts as gone.
        Assert.Equal(TerminateOutcome.Terminated, await provisioner.TerminateAsync("c-1", server.ExternalId, CancellationToken.None));
        Assert.Equal(404, docker.CallsTo("DELETE /containers/{id}")[^1].Status);
        Assert.Equal(StopOutcome.Stopped, await provisioner.StopAsync("c-1", null, CancellationToken.None));
        Assert.Contains(logs.Entries, e => e.EventId.Id == 110);
    }

    [Fact]
    public async Task Get_and_list_running_find_the_contracts_containers_by_their_label_and_nothing_else()
    {
        var first = Provisioned(await provisioner.ProvisionAsync(Work("c-1"), CancellationToken.None));
        var second = Provisioned(await provisioner.ProvisionAsync(Work("c-2"), CancellationToken.None));
        await provisioner.StopAsync("c-2", second.ExternalId, CancellationToken.None);
        docker.AddContainer("someones-database", "postgres:17", new Dictionary<string, string>(), []);

        var running = await provisioner.ListRunningAsync(CancellationToken.None);

        Assert.Equal(
            [(first.ExternalId, "c-1"), (second.ExternalId, "c-2")],
            running.Select(i => (i.ExternalId, i.ContractId!)).OrderBy(i => i.Item2, StringComparer.Ordinal));
        Assert.Equal(new RunningInstance(first.ExternalId, "c-1"), await provisioner.GetAsync("c-1", CancellationToken.None));
        Assert.Null(await provisioner.GetAsync("c-unknown", CancellationToken.None));
    }

    [Fact]
    public async Task Doctor_checks_the_engine_and_each_offerings_image_and_says_what_is_wrong()
    {
        docker.AddImage("ghcr.io/example/local-only:1", local: true);
        options.Offerings["local"] = new DockerOfferingOptions { Image = "ghcr.io/example/local-only:1" };
        options.Offerings["missing"] = new DockerOfferingOptions { Image = "ghcr.io/example/typo:1" };

        var checks = await provisioner.VerifySetupAsync(CancellationToken.None);

        Assert.Contains(checks, c => c.Level == SetupCheckLevel.Ok && c.Message.Contains($"Engine {DockerStandIn.EngineVersion}", StringComparison.Ordinal));
        Assert.Contains(checks, c => c.Level == SetupCheckLevel.Ok && c.Message.Contains("'local'", StringComparison.Ordinal) && c.Message.Contains("on the Docker host", StringComparison.Ordinal));
        Assert.Contains(checks, c => c.Level == SetupCheckLevel.Ok && c.Message.Contains($"'{Offering}'", StringComparison.Ordinal) && c.Message.Contains("in its registry", StringComparison.Ordinal));
        var missing = Assert.Single(checks, c => c.Level == SetupCheckLevel.Error);
        Assert.Contains("'missing'", missing.Message, StringComparison.Ordinal);
        Assert.Contains("ghcr.io/example/typo:1", missing.Message, StringComparison.Ordinal);
        Assert.Contains("Docker answered 401", missing.Message, StringComparison.Ordinal);
        Assert.Contains("requested access to the resource is denied", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_says_when_the_engine_is_too_old_or_does_not_answer()
    {
        docker.ApiVersion = "1.43";
        var old = await provisioner.VerifySetupAsync(CancellationToken.None);
        Assert.Contains(old, c => c.Level == SetupCheckLevel.Error && c.Message.Contains("serves API 1.24 to 1.43, not 1.47", StringComparison.Ordinal));

        var nowhere = Provisioner(new DockerOptions { Endpoint = "unix:///tmp/dc-no-such-docker.sock", PublicHost = PublicHost });
        var check = Assert.Single(await nowhere.VerifySetupAsync(CancellationToken.None));
        Assert.Equal(SetupCheckLevel.Error, check.Level);
        Assert.Contains("unix:///tmp/dc-no-such-docker.sock does not answer", check.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Free_resources_are_the_hosts_less_what_the_offerings_of_its_containers_take()
    {
        await provisioner.ProvisionAsync(Work("c-1"), CancellationToken.None);

        var resources = (await provisioner.CollectResourcesAsync(CancellationToken.None))!.Value;

        Assert.Equal(8, resources.GetProperty("cpus").GetInt32());
        Assert.Equal(6.5, resources.GetProperty("freeCpus").GetDouble());
        Assert.Equal(16 * 1024 - 2048, resources.GetProperty("freeMemoryMb").GetInt64());
        Assert.Equal(1, resources.GetProperty("containers").GetInt32());
    }

    [Fact]
    public async Task A_pull_whose_stream_ends_in_an_error_fails_with_the_registrys_message_and_makes_nothing_and_the_next_poll_succeeds()
    {
        const string RateLimited = "toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit";
        docker.FailPull(Image, RateLimited);

        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => provisioner.ProvisionAsync(Work("c-1"), CancellationToken.None));

        Assert.Contains(RateLimited, failed.Message, StringComparison.Ordinal);
        Assert.Equal(RateLimited, Assert.IsType<DockerApiException>(failed.InnerException).DockerMessage);
        Assert.Empty(docker.Containers);
        Assert.Empty(docker.CallsTo("POST /containers/create"));

        Provisioned(await provisioner.ProvisionAsync(Work("c-1"), CancellationToken.None));
        Assert.Single(docker.Containers);
    }

    [Fact]
    public async Task A_failed_pull_of_an_image_the_host_has_uses_the_local_copy()
    {
        docker.AddImage(Image, local: true);
        docker.FailPull(Image, "Get \"https://ghcr.io/v2/\": dial tcp: lookup ghcr.io: no such host");

        Provisioned(await provisioner.ProvisionAsync(Work("c-1"), CancellationToken.None));

        Assert.Single(docker.Containers);
        Assert.Contains(logs.Entries, e => e.EventId.Id == 103 && e.Exception!.Message.Contains("no such host", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_server_error_keeps_dockers_message_and_status_and_the_next_poll_makes_one_container()
    {
        docker.Fail("POST /containers/create", 500, "failed to create task for container: failed to create shim task: OCI runtime create failed");

        var failed = await Assert.ThrowsAsync<DockerApiException>(() => provisioner.ProvisionAsync(Work("c-1"), CancellationToken.None));

        Assert.Equal(System.Net.HttpStatusCode.InternalServerError, failed.Status);
        Assert.Contains("Docker answered 500 to POST /v1.47/containers/create: failed to create task", failed.Message, StringComparison.Ordinal);
        Assert.Empty(docker.Containers);
        Provisioned(await provisioner.ProvisionAsync(Work("c-1"), CancellationToken.None));
        Assert.Single(docker.Containers);
    }

    [Fact]
    public async Task A_slow_answer_is_a_timeout_naming_the_call()
    {
        docker.Delay("GET /containers/json", TimeSpan.FromSeconds(5));

        var failed = await Assert.ThrowsAsync<TimeoutException>(() => provisioner.ProvisionAsync(Work("c-1"), CancellationToken.None));

        Assert.Contains("did not answer /v1.47/containers/json within 2 s", failed.Message, StringComparison.Ordinal);
        Assert.Empty(docker.Containers);
    }

    [Fact]
    public async Task A_container_that_does_not_start_is_removed_and_the_next_poll_makes_a_new_one()
    {
        docker.Fail("POST /containers/{id}/start", 500, "driver failed programming external connectivity on endpoint dc-c-1: Bind for 0.0.0.0:30000 failed: port is already allocated");

        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => provisioner.ProvisionAsync(Work("c-1"), CancellationToken.None));

        Assert.Contains("port is already allocated", failed.Message, StringComparison.Ordinal);
        Assert.Empty(docker.Containers);
        Assert.Equal(201, Assert.Single(docker.CallsTo("POST /containers/create")).Status);
        var removed = Assert.Single(docker.CallsTo("DELETE /containers/{id}"));
        Assert.Equal(204, removed.Status);
        Assert.Contains("force=true", removed.Query, StringComparison.Ordinal);
        Assert.Contains(logs.Entries, e => e.EventId.Id == 107);

        var server = Provisioned(await provisioner.ProvisionAsync(Work("c-1"), CancellationToken.None));
        Assert.Equal(server.ExternalId, Assert.Single(docker.Containers).Id);
    }

    [Fact]
    public async Task A_container_an_earlier_run_made_and_never_reported_is_used_with_its_password_not_made_again()
    {
        var earlier = docker.AddContainer("dc-c-1", Image,
            new Dictionary<string, string> { [DockerProvisioner.ContractLabel] = "c-1", [DockerProvisioner.OfferingLabel] = Offering },
            ["DC_SSH_USER=root", "DC_SSH_PASSWORD=EarlierRunPassword0123456"], running: false);

        var server = Provisioned(await provisioner.ProvisionAsync(Work("c-1"), CancellationToken.None));

        Assert.Equal(earlier.Id, server.ExternalId);
        Assert.Equal("EarlierRunPassword0123456", server.Password);
        Assert.True(docker.Container(earlier.Id).Running);
        Assert.Empty(docker.CallsTo("POST /images/create"));
        Assert.Empty(docker.CallsTo("POST /containers/create"));
        Assert.Contains(logs.Entries, e => e.EventId.Id == 106);
        AssertNoSecretLogged("EarlierRunPassword0123456");
    }

    [Fact]
    public async Task A_name_taken_by_the_contracts_own_container_made_meanwhile_is_adopted_and_one_taken_by_a_stranger_is_refused()
    {
        var meanwhile = docker.AddContainer("dc-c-1", Image,
            new Dictionary<string, string> { [DockerProvisioner.ContractLabel] = "c-1" }, ["DC_SSH_PASSWORD=MadeMeanwhile0123456789ab"]);
        docker.MissInLists();

        var server = Provisioned(await provisioner.ProvisionAsync(Work("c-1"), CancellationToken.None));

        Assert.Equal(409, Assert.Single(docker.CallsTo("POST /containers/create")).Status);
        Assert.Equal((meanwhile.Id, "MadeMeanwhile0123456789ab"), (server.ExternalId, server.Password));
        Assert.Single(docker.Containers);
        Assert.Contains(logs.Entries, e => e.EventId.Id == 111);

        docker.AddContainer("dc-c-2", "nginx:1.27", new Dictionary<string, string>(), []);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => provisioner.ProvisionAsync(Work("c-2"), CancellationToken.None));
        Assert.Contains("dc-c-2 is taken by a container without the label cloud.decent.contract=c-2", refused.Message, StringComparison.Ordinal);
        Assert.Contains("is already in use by container", refused.InnerException!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_docker_refuses_fail_the_contract_with_dockers_message_and_an_offering_without_settings_fails_it_too()
    {
        docker.Fail("POST /containers/create", 400, "Range of CPUs is from 0.01 to 8.00, as there are only 8 CPUs available");

        var refused = await provisioner.ProvisionAsync(Work("c-1"), CancellationToken.None);
        var unknown = await provisioner.ProvisionAsync(Work("c-2", offering: "not-configured"), CancellationToken.None);

        Assert.Contains("Range of CPUs is from 0.01 to 8.00", Assert.IsType<ProvisionOutcome.Failed>(refused).Reason, StringComparison.Ordinal);
        Assert.Contains("no settings for offering 'not-configured'", Assert.IsType<ProvisionOutcome.Failed>(unknown).Reason, StringComparison.Ordinal);
        Assert.Empty(docker.Containers);
    }

    [Theory]
    [InlineData("ghcr.io/example/ubuntu-ssh:24.04", "ghcr.io/example/ubuntu-ssh", "24.04")]
    [InlineData("ubuntu", "ubuntu", "latest")]
    [InlineData("localhost:5000/ssh", "localhost:5000/ssh", "latest")]
    [InlineData("localhost:5000/ssh:2", "localhost:5000/ssh", "2")]
    [InlineData("ssh@sha256:0123abcd", "ssh", "sha256:0123abcd")]
    public void An_image_reference_is_pulled_by_repository_and_tag_or_digest(string image, string repository, string tag) =>
        Assert.Equal((repository, tag), DockerProvisioner.SplitImage(image));

    [Fact]
    public void The_spec_copy_is_the_published_file()
    {
        var published = Path.GetFullPath(Path.Combine(DecentCloud.Testing.RepositoryRoot.Path, "..", "shared", "contracts", "docker", "v1.47.yaml"));
        // A lone clone has only the copy; where the project's shared/ folder is beside the checkout, they must be equal.
        if (File.Exists(published))
        {
            Assert.Equal(File.ReadAllBytes(published), File.ReadAllBytes(DockerContract.SpecPath));
        }
        Assert.Equal("/v1.47", docker.Contract.BasePath);
    }

    [Fact]
    public async Task The_stand_in_reports_a_request_the_spec_does_not_allow()
    {
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, token) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(docker.SocketPath!), token);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        }) { BaseAddress = new Uri("http://docker/") };

        await http.GetAsync("containers/json");
        await http.GetAsync("v1.47/containers/json?al=1");
        await http.PostAsync("v1.47/containers/create", new StringContent("""{"Image":"x","HostConfig":{"NanoCPUs":1}}""", System.Text.Encoding.UTF8, "application/json"));

        var problems = docker.Violations.Select(v => v.Problem).ToList();
        Assert.Equal(3, problems.Count);
        Assert.Contains("pinned version", problems[0], StringComparison.Ordinal);
        Assert.Contains("'al' is not a parameter", problems[1], StringComparison.Ordinal);
        Assert.Contains("body.HostConfig.NanoCPUs: not a field", problems[2], StringComparison.Ordinal);
        // Seen: the test is over, and the disposal's check must not count these deliberate ones.
        docker = await ReplaceStandInAsync();
    }

    private async Task<DockerStandIn> ReplaceStandInAsync()
    {
        await docker.DisposeAsync();
        return await DockerStandIn.StartAsync();
    }

    private DockerProvisioner Provisioner(DockerOptions settings) =>
        new(settings, DockerClient.Create(settings), clock, LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug)).CreateLogger<DockerProvisioner>());

    private Task<HealthResult> Health(ProvisionedServer server) =>
        provisioner.CheckHealthAsync(new InstanceReport(server.ExternalId, server.Ipv4, null, null, server.SshPort, server.SshUser, null!), CancellationToken.None);

    private static ProvisionedServer Provisioned(ProvisionOutcome outcome) => Assert.IsType<ProvisionOutcome.Provisioned>(outcome).Server;

    private static Work Work(string contractId, string offering = Offering, string? sshKey = SshKey) =>
        new(contractId, offering, "ab", sshKey, 24, "accepted", DateTimeOffset.UnixEpoch);

    private void AssertNoSecretLogged(string secret) =>
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains(secret, StringComparison.Ordinal) || (e.Exception?.ToString().Contains(secret, StringComparison.Ordinal) ?? false));

    /// <summary>A clock that moves on by <paramref name="step"/> each time it is read, so rate-limited progress lines show up in a fast test.</summary>
    private sealed class SteppingClock(TimeSpan step) : TimeProvider
    {
        private long ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Add(ref ticks, step.Ticks);
    }
}
