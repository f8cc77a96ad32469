using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using DecentCloud.Agent.Api;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DecentCloud.Agent.Provisioners.Docker;

/// <summary>
/// Containers on one Docker host as servers: per contract it pulls the offering's image, creates a container with the
/// offering's CPU and memory limits, its SSH port published on the host, the SSH user, a generated password and the
/// renter's key in its environment (the image contract, docs/agent.md "docker"), labels naming the contract, and starts
/// it. The contract label is the container's identity: it is looked up before anything is made, so a crash between the
/// create and the report never makes a second container.
/// </summary>
internal sealed class DockerProvisioner(DockerOptions options, DockerClient docker, TimeProvider time, ILogger logger) : IProvisioner
{
    public const string Name = "docker";

    /// <summary>The label naming the contract a container serves; its presence marks a container as dc-agent's.</summary>
    public const string ContractLabel = "cloud.decent.contract";
    public const string OfferingLabel = "cloud.decent.offering";
    public const string ManagedByLabel = "cloud.decent.managed-by";

    private const string PasswordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    private const int PasswordLength = 24;
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(5);

    string IProvisioner.Name => Name;

    public IReadOnlyList<string> Capabilities { get; } = ["docker", "ssh"];

    public static ProvisionerKind Kind { get; } = new(Name, DockerOptions.Validate, (services, section) =>
    {
        var options = section.Get<DockerOptions>()!.ResolvePaths(ConfigFolder(services));
        return new DockerProvisioner(options, DockerClient.Create(options),
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILoggerFactory>().CreateLogger<DockerProvisioner>());
    });

    public async Task<ProvisionOutcome> ProvisionAsync(Work work, CancellationToken cancellationToken)
    {
        if (work.OfferingId is not { } offeringId || !options.Offerings.TryGetValue(offeringId, out var offering))
        {
            return Refuse(work.ContractId, $"the docker provisioner has no settings for offering '{work.OfferingId}' ([docker.offerings.\"{work.OfferingId}\"] is missing)");
        }

        var container = await FindAsync(work.ContractId, cancellationToken);
        string? password = null;
        if (container is null)
        {
            await PullAsync(work.ContractId, offering.Image, cancellationToken);
            password = RandomNumberGenerator.GetString(PasswordAlphabet, PasswordLength);
            var name = ContainerName(work.ContractId);
            try
            {
                var created = await docker.CreateContainerAsync(name, CreateRequest(work, offeringId, offering, password), cancellationToken);
                DockerLog.Created(logger, work.ContractId, created.Id, name, offering.Image, offering.Cpus, offering.MemoryMb);
                if (created.Warnings is { Count: > 0 } warnings)
                {
                    DockerLog.CreateWarnings(logger, work.ContractId, created.Id, string.Join("; ", warnings));
                }
                await StartOrRemoveAsync(work.ContractId, created.Id, cancellationToken);
                container = new ContainerSummary(created.Id, [name], offering.Image, "running", null, null);
            }
            catch (DockerApiException ex) when (ex.Status == HttpStatusCode.BadRequest)
            {
                // The daemon refuses the offering's settings (a limit the host cannot give): trying again would not help.
                return Refuse(work.ContractId, $"Docker refused the container for offering '{offeringId}': {ex.DockerMessage}");
            }
            catch (DockerApiException ex) when (ex.Status == HttpStatusCode.Conflict)
            {
                // Made by an earlier try whose answer was lost, or by another run: the label says whether it is this contract's.
                DockerLog.NameTaken(logger, work.ContractId, name);
                container = await FindAsync(work.ContractId, cancellationToken)
                    ?? throw new InvalidOperationException($"The container name {name} is taken by a container without the label {ContractLabel}={work.ContractId}; remove or rename it.", ex);
                password = null;
            }
        }

        if (password is null)
        {
            DockerLog.Adopted(logger, work.ContractId, container.Id, container.State);
            if (container.State != "running")
            {
                await StartOrRemoveAsync(work.ContractId, container.Id, cancellationToken);
            }
        }

        var inspected = await docker.InspectContainerAsync(container.Id, cancellationToken)
            ?? throw new InvalidOperationException($"Container {container.Id} of contract {work.ContractId} vanished right after it was started.");
        password ??= PasswordOf(inspected, offering)
            ?? throw new InvalidOperationException($"Container {container.Id} of contract {work.ContractId} has no {offering.PasswordEnv} variable (was password_env changed?); remove it to have it made again.");
        var hostPort = HostPortOf(inspected, offering.SshPort)
            ?? throw new InvalidOperationException($"Container {container.Id} of contract {work.ContractId} has no host port published for {offering.SshPort}/tcp.");

        DockerLog.Running(logger, work.ContractId, container.Id, options.PublicHost, hostPort);
        var (ipv4, ipv6, hostname) = Address(options.PublicHost);
        return new ProvisionOutcome.Provisioned(new ProvisionedServer(container.Id, ipv4, ipv6, hostname, hostPort, offering.SshUser, password));
    }

    public async Task<TerminateOutcome> TerminateAsync(string contractId, string? externalId, CancellationToken cancellationToken)
    {
        var ids = (await docker.ListContainersAsync($"{ContractLabel}={contractId}", cancellationToken)).Select(c => c.Id).ToList();
        if (externalId is not null && !ids.Any(id => id.StartsWith(externalId, StringComparison.Ordinal)))
        {
            ids.Add(externalId);
        }

        var removed = 0;
        foreach (var id in ids)
        {
            if (await docker.RemoveContainerAsync(id, cancellationToken))
            {
                DockerLog.Removed(logger, contractId, id);
                removed++;
            }
        }
        if (removed == 0)
        {
            DockerLog.AlreadyGone(logger, contractId, "remove");
        }
        return TerminateOutcome.Terminated;
    }

    public async Task<StopOutcome> StopAsync(string contractId, string? externalId, CancellationToken cancellationToken)
    {
        var id = externalId ?? (await FindAsync(contractId, cancellationToken))?.Id;
        if (id is null)
        {
            DockerLog.AlreadyGone(logger, contractId, "stop");
            return StopOutcome.Stopped;
        }
        try
        {
            await docker.StopContainerAsync(id, options.StopTimeoutSeconds, cancellationToken);
            DockerLog.Stopped(logger, contractId, id);
        }
        catch (DockerApiException ex) when (ex.Status == HttpStatusCode.NotFound)
        {
            DockerLog.AlreadyGone(logger, contractId, "stop");
        }
        return StopOutcome.Stopped;
    }

    /// <summary>
    /// The container's state: running is healthy, unless the image's HEALTHCHECK says otherwise (starting is unknown,
    /// unhealthy with its last output); stopped, exited or gone is unhealthy with why.
    /// </summary>
    public async Task<HealthResult> CheckHealthAsync(InstanceReport instance, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var inspected = await docker.InspectContainerAsync(instance.ExternalId, cancellationToken);
        var latency = watch.ElapsedMilliseconds;
        if (inspected?.State is not { } state)
        {
            return new HealthResult(HealthStatus.Unhealthy, null, $"container {Short(instance.ExternalId)} does not exist on the Docker host");
        }
        if (!state.Running)
        {
            var error = string.IsNullOrEmpty(state.Error) ? "" : $", error: {state.Error}";
            return new HealthResult(HealthStatus.Unhealthy, null, $"container {Short(inspected.Id)} is {state.Status} (exit code {state.ExitCode}{error})");
        }
        return state.Health?.Status switch
        {
            "healthy" => new HealthResult(HealthStatus.Healthy, latency, $"container {Short(inspected.Id)} running, HEALTHCHECK healthy"),
            "starting" => new HealthResult(HealthStatus.Unknown, null, $"container {Short(inspected.Id)} running, HEALTHCHECK starting"),
            "unhealthy" => new HealthResult(HealthStatus.Unhealthy, null,
                $"container {Short(inspected.Id)} running, HEALTHCHECK unhealthy ({state.Health.FailingStreak} failures in a row): {LastOutput(state.Health)}"),
            _ => new HealthResult(HealthStatus.Healthy, latency, $"container {Short(inspected.Id)} running since {state.StartedAt}"),
        };
    }

    public async Task<RunningInstance?> GetAsync(string contractId, CancellationToken cancellationToken) =>
        await FindAsync(contractId, cancellationToken) is { } container ? new RunningInstance(container.Id, contractId) : null;

    /// <summary>Every container carrying the contract label, running or stopped (a stopped one still holds a contract's disk).</summary>
    public async Task<IReadOnlyList<RunningInstance>> ListRunningAsync(CancellationToken cancellationToken) =>
        [.. (await docker.ListContainersAsync(ContractLabel, cancellationToken))
            .Select(container => new RunningInstance(container.Id, container.Labels?.GetValueOrDefault(ContractLabel)))];

    public async Task<IReadOnlyList<SetupCheck>> VerifySetupAsync(CancellationToken cancellationToken)
    {
        var checks = new List<SetupCheck>();
        SystemVersion version;
        try
        {
            version = await docker.VersionAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or TimeoutException)
        {
            checks.Add(new(SetupCheckLevel.Error, $"docker: the Engine API at {docker.Endpoint} does not answer: {ex.Message}"));
            return checks;
        }

        checks.Add(SupportsPinnedVersion(version)
            ? new(SetupCheckLevel.Ok, $"docker: Engine {version.Version} at {docker.Endpoint} (API {version.MinAPIVersion} to {version.ApiVersion}; dc-agent uses {DockerClient.ApiVersion})")
            : new(SetupCheckLevel.Error, $"docker: Engine {version.Version} at {docker.Endpoint} serves API {version.MinAPIVersion} to {version.ApiVersion}, not {DockerClient.ApiVersion}, which dc-agent uses"));

        if (options.Offerings.Count == 0)
        {
            checks.Add(new(SetupCheckLevel.Warning, $"docker: no [docker.{ProvisionerKinds.OfferingsKey}.\"<offering id>\"] is configured; only offerings without a section of their own come here, and they fail"));
        }
        foreach (var (offeringId, offering) in options.Offerings.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            checks.Add(await CheckImageAsync(offeringId, offering.Image, cancellationToken));
        }
        return checks;
    }

    /// <summary>The host's CPUs and memory less what the offerings of the containers it runs take: <c>{cpus, memoryMb, freeCpus, freeMemoryMb, containers}</c>.</summary>
    public async Task<JsonElement?> CollectResourcesAsync(CancellationToken cancellationToken)
    {
        var info = await docker.InfoAsync(cancellationToken);
        var ours = await docker.ListContainersAsync(ContractLabel, cancellationToken);
        var taken = ours
            .Select(container => container.Labels?.GetValueOrDefault(OfferingLabel) is { } id && options.Offerings.TryGetValue(id, out var offering) ? offering : null)
            .OfType<DockerOfferingOptions>()
            .ToList();
        var memoryMb = info.MemTotal / (1024 * 1024);
        return JsonSerializer.SerializeToElement(new
        {
            cpus = info.NCPU,
            memoryMb,
            freeCpus = Math.Max(0, info.NCPU - taken.Sum(o => o.Cpus)),
            freeMemoryMb = Math.Max(0, memoryMb - taken.Sum(o => o.MemoryMb)),
            containers = ours.Count,
        });
    }

    /// <summary>The docker names its containers <c>dc-&lt;contract id&gt;</c>, in the characters a container name allows.</summary>
    public static string ContainerName(string contractId) =>
        "dc-" + new string([.. contractId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '-')]);

    /// <summary><c>repository[:tag]</c> or <c>repository@digest</c> as the pull call takes it; no tag means <c>latest</c> (an empty tag would pull every tag).</summary>
    public static (string Repository, string Tag) SplitImage(string image)
    {
        var at = image.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            return (image[..at], image[(at + 1)..]);
        }
        var colon = image.LastIndexOf(':');
        return colon > image.LastIndexOf('/') ? (image[..colon], image[(colon + 1)..]) : (image, "latest");
    }

    private ContainerCreateRequest CreateRequest(Work work, string offeringId, DockerOfferingOptions offering, string password)
    {
        var port = $"{offering.SshPort.ToString(CultureInfo.InvariantCulture)}/tcp";
        var hostPort = options.PortRange is { } range ? $"{range.First}-{range.Last}" : "";
        var env = offering.Env.Select(pair => $"{pair.Key}={pair.Value}").ToList();
        env.Add($"{offering.UserEnv}={offering.SshUser}");
        env.Add($"{offering.PasswordEnv}={password}");
        if (!string.IsNullOrWhiteSpace(work.SshKey))
        {
            env.Add($"{offering.SshKeyEnv}={work.SshKey.Trim()}");
        }

        return new ContainerCreateRequest(
            offering.Image,
            env,
            new Dictionary<string, string>
            {
                [ContractLabel] = work.ContractId,
                [OfferingLabel] = offeringId,
                [ManagedByLabel] = "dc-agent",
            },
            new Dictionary<string, JsonElement> { [port] = JsonSerializer.SerializeToElement(new { }) },
            new ContainerHostConfig(
                offering.NanoCpus,
                offering.MemoryBytes,
                new Dictionary<string, IReadOnlyList<PortBinding>> { [port] = [new PortBinding("", hostPort)] },
                // A host reboot brings the renter's server back, unless the agent stopped it (a paused contract).
                new RestartPolicy("unless-stopped")));
    }

    private async Task PullAsync(string contractId, string image, CancellationToken cancellationToken)
    {
        var (repository, tag) = SplitImage(image);
        DockerLog.Pulling(logger, contractId, image, options.PullTimeoutSeconds);
        var started = time.GetTimestamp();
        var lastLogged = started;
        PullProgress? last = null;
        try
        {
            await foreach (var progress in docker.PullAsync(repository, tag, TimeSpan.FromSeconds(options.PullTimeoutSeconds), cancellationToken))
            {
                last = progress;
                if (time.GetElapsedTime(lastLogged) >= ProgressEvery)
                {
                    lastLogged = time.GetTimestamp();
                    DockerLog.PullProgress(logger, image, progress.Status, progress.Id, progress.ProgressDetail?.Current, progress.ProgressDetail?.Total);
                }
            }
        }
        catch (Exception ex) when (ex is DockerApiException or TimeoutException or HttpRequestException)
        {
            // A registry that is down or rate-limits (Docker Hub's pull limit arrives as such a line) need not stop a
            // contract whose image the host has already.
            if (!await docker.HasImageAsync(image, cancellationToken))
            {
                throw new InvalidOperationException($"Pulling {image} for contract {contractId} failed: {ex.Message}", ex);
            }
            DockerLog.PullFailedUsingLocal(logger, image, ex);
            return;
        }
        var seconds = (long)time.GetElapsedTime(started).TotalSeconds;
        DockerLog.Pulled(logger, image, seconds, last?.Status);
    }

    /// <summary>Starts a container this provisioner made; one that will not start is removed so the next try starts clean.</summary>
    private async Task StartOrRemoveAsync(string contractId, string containerId, CancellationToken cancellationToken)
    {
        try
        {
            await docker.StartContainerAsync(containerId, cancellationToken);
        }
        catch (Exception ex) when (ex is DockerApiException or TimeoutException or HttpRequestException)
        {
            DockerLog.StartFailed(logger, contractId, containerId, ex);
            try
            {
                await docker.RemoveContainerAsync(containerId, cancellationToken);
            }
            catch (Exception cleanup) when (cleanup is DockerApiException or TimeoutException or HttpRequestException)
            {
                DockerLog.CleanupFailed(logger, contractId, containerId, cleanup);
            }
            throw new InvalidOperationException($"Container {containerId} of contract {contractId} did not start: {ex.Message}", ex);
        }
    }

    private async Task<ContainerSummary?> FindAsync(string contractId, CancellationToken cancellationToken) =>
        (await docker.ListContainersAsync($"{ContractLabel}={contractId}", cancellationToken))
            // Docker's label filter is exact; the check guards against a daemon (or proxy) that ignores the filter.
            .FirstOrDefault(container => container.Labels?.GetValueOrDefault(ContractLabel) == contractId);

    private async Task<SetupCheck> CheckImageAsync(string offeringId, string image, CancellationToken cancellationToken)
    {
        var at = $"docker: offering '{offeringId}'";
        try
        {
            if (await docker.HasImageAsync(image, cancellationToken))
            {
                return new(SetupCheckLevel.Ok, $"{at}: image {image} is on the Docker host");
            }
            await docker.DistributionInspectAsync(image, cancellationToken);
            return new(SetupCheckLevel.Ok, $"{at}: image {image} is in its registry; it is pulled for the first contract");
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or TimeoutException)
        {
            return new(SetupCheckLevel.Error, $"{at}: image {image} is neither on the Docker host nor pullable: {ex.Message}");
        }
    }

    private ProvisionOutcome.Failed Refuse(string contractId, string reason)
    {
        DockerLog.Refused(logger, contractId, reason);
        return new ProvisionOutcome.Failed(reason);
    }

    private static bool SupportsPinnedVersion(SystemVersion version)
    {
        var pinned = Version.Parse(DockerClient.ApiVersion);
        return Version.TryParse(version.ApiVersion, out var newest) && newest >= pinned
            && (!Version.TryParse(version.MinAPIVersion, out var oldest) || oldest <= pinned);
    }

    private static string? PasswordOf(ContainerInspect container, DockerOfferingOptions offering) =>
        container.Config?.Env?.FirstOrDefault(variable => variable.StartsWith(offering.PasswordEnv + "=", StringComparison.Ordinal)) is { } found
            ? found[(offering.PasswordEnv.Length + 1)..]
            : null;

    /// <summary>The host port of <c>{port}/tcp</c>; IPv4 and IPv6 bindings come as separate entries with the same port.</summary>
    private static int? HostPortOf(ContainerInspect container, int port) =>
        container.NetworkSettings?.Ports?.GetValueOrDefault($"{port.ToString(CultureInfo.InvariantCulture)}/tcp") is { } bindings
        && bindings.Select(binding => int.TryParse(binding.HostPort, NumberStyles.None, CultureInfo.InvariantCulture, out var hostPort) ? hostPort : 0)
            .FirstOrDefault(hostPort => hostPort > 0) is var found and > 0
            ? found
            : null;

    private static (string? Ipv4, string? Ipv6, string? Hostname) Address(string host) =>
        IPAddress.TryParse(host, out var address)
            ? address.AddressFamily == AddressFamily.InterNetworkV6 ? (null, host, null) : (host, null, null)
            : (null, null, host);

    private static string LastOutput(ContainerHealth health) =>
        health.Log is [.., var last] ? (last.Output ?? "").Trim() is var output && output.Length > 200 ? output[..200] + "…" : (last.Output ?? "").Trim() : "no output";

    private static string Short(string id) => id.Length > 12 ? id[..12] : id;

    /// <summary>The folder of the config file, against which relative TLS paths are taken (as for the agent's own files).</summary>
    private static string ConfigFolder(IServiceProvider services) => AgentConfigFolder.Of(services).Path;
}
