using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using DecentCloud.Agent.Api;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DecentCloud.Agent.Provisioners.Proxmox;

/// <summary>How often it asks about running tasks and the guest agent; the tests make these short.</summary>
internal sealed record ProxmoxTimings(TimeSpan TaskPoll, TimeSpan GuestAgentPoll)
{
    public static ProxmoxTimings Default { get; } = new(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5));
}

/// <summary>
/// Makes a contract's server as a full clone of the offering's template on a Proxmox VE node: a new VM id from
/// <c>/cluster/nextid</c> (not reserved, so a taken id means another id), cloud-init user, generated password, the
/// renter's SSH key and the IP configuration, then start, and the address from the QEMU guest agent. Every long call is
/// a task (UPID) followed to its end. The VM is named <c>dc-&lt;contract id&gt;</c> from the clone on (the name is set by
/// the clone call itself, so a crash right after it still leaves the VM findable) and tagged <c>decent-cloud</c> and
/// <c>dc-&lt;contract id&gt;</c>; the tag is what <see cref="ListRunningAsync"/> goes by.
/// </summary>
internal sealed class ProxmoxProvisioner(ProxmoxOptions options, ProxmoxClient api, ProxmoxTimings timings, TimeProvider time, ILogger logger) : IProvisioner
{
    public const string Name = "proxmox";

    /// <summary>The tag every VM it makes carries.</summary>
    public const string Tag = "decent-cloud";

    public const string MarkerPrefix = "dc-";

    /// <summary>How many VM ids it tries when each turns out taken by the time the clone arrives.</summary>
    public const int CloneAttempts = 5;

    private const string PasswordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    private const int PasswordLength = 24;

    string IProvisioner.Name => Name;

    public IReadOnlyList<string> Capabilities { get; } = ["vm", "ssh"];

    /// <summary>Its settings are <c>[proxmox]</c> (<see cref="ProxmoxOptions"/>).</summary>
    public static ProvisionerKind Kind { get; } = new(Name, ProxmoxSettings.Validate, (services, section) =>
    {
        var options = section.Get<ProxmoxOptions>() ?? new ProxmoxOptions();
        if (!string.IsNullOrWhiteSpace(options.TokenSecretFile))
        {
            // Taken from the config file's folder when relative, as the agent's own files are.
            options.TokenSecretFile = AgentConfigFolder.Of(services).Resolve(options.TokenSecretFile);
        }
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger<ProxmoxProvisioner>();
        var (secret, problem) = ProxmoxSettings.ReadTokenSecret(options);
        var (http, pin) = ProxmoxClient.CreateHttpClient(options, secret ?? "");
        return new ProxmoxProvisioner(options, new ProxmoxClient(http, pin, logger, problem), ProxmoxTimings.Default,
            services.GetService<TimeProvider>() ?? TimeProvider.System, logger);
    });

    /// <summary>The name and tag that mark a contract's VM; null when the contract id cannot be one (a DNS label).</summary>
    public static string? Marker(string contractId)
    {
        var marker = MarkerPrefix + contractId.ToLowerInvariant();
        return marker.Length <= 63 && marker.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') && !marker.EndsWith('-')
            ? marker
            : null;
    }

    public async Task<ProvisionOutcome> ProvisionAsync(Work work, CancellationToken cancellationToken)
    {
        if (work.OfferingId is not { } offeringId || !options.Offerings.TryGetValue(offeringId, out var offering))
        {
            return new ProvisionOutcome.Failed($"offering '{work.OfferingId}' has no [{Name}.{ProvisionerKinds.OfferingsKey}.\"{work.OfferingId}\"] section in the agent's config");
        }
        if (Marker(work.ContractId) is not { } marker)
        {
            return new ProvisionOutcome.Failed($"contract id '{work.ContractId}' cannot name a Proxmox VM (letters, digits and '-', at most 60)");
        }

        var vm = await FindAsync(work.ContractId, cancellationToken);
        if (vm is null)
        {
            vm = await CloneAsync(work.ContractId, marker, offering, cancellationToken);
        }
        else
        {
            ProxmoxLog.FoundExisting(logger, work.ContractId, vm.Vmid, vm.Node);
        }

        try
        {
            vm = await WaitUnlockedAsync(vm, cancellationToken);
            if (vm.Running)
            {
                // Found after a crash, already started with a password nobody kept: cloud-init applies the new one at boot.
                await StopVmAsync(vm, cancellationToken);
            }
            var password = NewPassword();
            await api.PutAsync(VmPath(vm, "config"), ConfigFor(work, marker, offering, password), cancellationToken);
            await RunTaskAsync(vm.Node, await api.PostAsync(VmPath(vm, "status/start"), [], cancellationToken), $"start of VM {vm.Vmid}", cancellationToken);
            ProxmoxLog.Started(logger, work.ContractId, vm.Vmid, vm.Node, offering.User);

            var (ipv4, ipv6) = await WaitForAddressAsync(vm, cancellationToken);
            ProxmoxLog.AddressFound(logger, work.ContractId, vm.Vmid, ipv4 ?? ipv6!);
            return new ProvisionOutcome.Provisioned(new ProvisionedServer(ExternalId(vm.Vmid), ipv4, ipv6, Hostname: null, offering.SshPort, offering.User, password));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await DestroyHalfMadeAsync(work.ContractId, vm.Vmid, ex, cancellationToken);
            throw;
        }
    }

    public async Task<TerminateOutcome> TerminateAsync(string contractId, string? externalId, CancellationToken cancellationToken)
    {
        if (await FindAsync(contractId, cancellationToken) is not { } vm)
        {
            ProxmoxLog.NoVm(logger, contractId, "terminate");
            return TerminateOutcome.Terminated;
        }

        vm = await WaitUnlockedAsync(vm, cancellationToken);
        if (await DestroyAsync(vm, cancellationToken))
        {
            ProxmoxLog.Destroyed(logger, contractId, vm.Vmid, vm.Node);
        }
        return TerminateOutcome.Terminated;
    }

    public async Task<StopOutcome> StopAsync(string contractId, string? externalId, CancellationToken cancellationToken)
    {
        if (await FindAsync(contractId, cancellationToken) is not { } vm)
        {
            ProxmoxLog.NoVm(logger, contractId, "stop");
            return StopOutcome.Stopped;
        }

        vm = await WaitUnlockedAsync(vm, cancellationToken);
        if (vm.Running)
        {
            await StopVmAsync(vm, cancellationToken);
        }
        ProxmoxLog.Stopped(logger, contractId, vm.Vmid, vm.Node);
        return StopOutcome.Stopped;
    }

    /// <summary>Healthy when the VM runs and its guest agent answers with an address; unknown when Proxmox cannot be asked.</summary>
    public async Task<HealthResult> CheckHealthAsync(InstanceReport instance, CancellationToken cancellationToken)
    {
        if (ParseExternalId(instance.ExternalId) is not { } vmid)
        {
            return new HealthResult(HealthStatus.Unknown, null, $"'{instance.ExternalId}' is not a Proxmox VM of this agent (qemu/<vmid>)");
        }
        try
        {
            var vm = (await ListVmsAsync(cancellationToken)).FirstOrDefault(v => v.Vmid == vmid);
            if (vm is null)
            {
                return new HealthResult(HealthStatus.Unhealthy, null, $"VM {vmid} does not exist");
            }
            if (!vm.Running)
            {
                return new HealthResult(HealthStatus.Unhealthy, null, $"VM {vmid} on node {vm.Node} is {vm.Status}");
            }

            var watch = Stopwatch.StartNew();
            var (ipv4, ipv6) = Addresses(await api.GetAsync(VmPath(vm, "agent/network-get-interfaces"), cancellationToken));
            var address = ipv4 ?? ipv6;
            return address is null
                ? new HealthResult(HealthStatus.Unhealthy, null, $"VM {vmid} runs, but its guest agent reports no address")
                : new HealthResult(HealthStatus.Healthy, watch.ElapsedMilliseconds, $"VM {vmid} runs on node {vm.Node}; its guest agent reports {address}");
        }
        catch (ProxmoxApiException ex) when (ex.Status == (int)HttpStatusCode.InternalServerError)
        {
            // "QEMU guest agent is not running", "VM … is not running": the VM itself is in trouble.
            return new HealthResult(HealthStatus.Unhealthy, null, $"VM {vmid}: {ex.ProxmoxMessage}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or InvalidOperationException)
        {
            return new HealthResult(HealthStatus.Unknown, null, $"Proxmox could not be asked about VM {vmid}: {ex.Message}");
        }
    }

    public async Task<RunningInstance?> GetAsync(string contractId, CancellationToken cancellationToken) =>
        await FindAsync(contractId, cancellationToken) is { } vm ? new RunningInstance(ExternalId(vm.Vmid), contractId) : null;

    /// <summary>Every VM tagged <c>decent-cloud</c> and named for a contract, running or stopped (a paused contract's VM is kept too).</summary>
    public async Task<IReadOnlyList<RunningInstance>> ListRunningAsync(CancellationToken cancellationToken) =>
        [.. (await ListVmsAsync(cancellationToken))
            .Where(vm => vm.Tags.Contains(Tag) && vm.Name is { } name && name.StartsWith(MarkerPrefix, StringComparison.Ordinal) && vm.Tags.Contains(name))
            .Select(vm => new RunningInstance(ExternalId(vm.Vmid), vm.Name![MarkerPrefix.Length..]))];

    public async Task<IReadOnlyList<SetupCheck>> VerifySetupAsync(CancellationToken cancellationToken)
    {
        var checks = new List<SetupCheck>();
        var host = options.ApiUrl?.GetLeftPart(UriPartial.Authority);
        try
        {
            var version = await api.GetAsync("version", cancellationToken);
            checks.Add(new(SetupCheckLevel.Ok, $"{Name}: {host} accepts the API token {options.TokenId} (Proxmox VE {Text(version, "version")})"
                + (string.IsNullOrWhiteSpace(options.Fingerprint) ? "; its certificate is checked against the system's CAs" : "; its certificate matches the pinned fingerprint")));
        }
        catch (ProxmoxApiException ex) when (ex.Status == (int)HttpStatusCode.Unauthorized)
        {
            checks.Add(new(SetupCheckLevel.Error, $"{Name}: {host} refused the API token {options.TokenId} ({ex.Status} {ex.ProxmoxMessage}): check {Name}.{ProxmoxOptions.TokenIdKey}, the secret, and that the token has not expired"));
            return checks;
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or InvalidOperationException)
        {
            checks.Add(new(SetupCheckLevel.Error, $"{Name}: {ex.Message}"));
            return checks;
        }

        if (options.Offerings.Count == 0)
        {
            checks.Add(new(SetupCheckLevel.Warning, $"{Name}: no [{Name}.{ProvisionerKinds.OfferingsKey}.\"<offering id>\"] section: no offering is provisioned on Proxmox"));
            return checks;
        }

        IReadOnlyList<VmInfo> vms;
        try
        {
            vms = await ListVmsAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or InvalidOperationException)
        {
            checks.Add(new(SetupCheckLevel.Error, $"{Name}: the VMs could not be listed: {ex.Message}"));
            return checks;
        }

        foreach (var (offeringId, offering) in options.Offerings.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            var node = options.NodeOf(offering);
            var key = $"{Name}.{ProvisionerKinds.OfferingsKey}.{offeringId}";
            var template = vms.FirstOrDefault(vm => vm.Vmid == offering.TemplateVmid);
            checks.Add(template switch
            {
                null => new(SetupCheckLevel.Error, $"{Name}: offering '{offeringId}': template {offering.TemplateVmid} does not exist, or the token lacks VM.Audit on /vms/{offering.TemplateVmid} ({key}.{ProxmoxOfferingOptions.TemplateVmidKey})"),
                { Template: false } => new(SetupCheckLevel.Error, $"{Name}: offering '{offeringId}': VM {template.Vmid} ({template.Name}) is not a template; convert it with 'qm template {template.Vmid}' or name a template in {key}.{ProxmoxOfferingOptions.TemplateVmidKey}"),
                _ when template.Node != node => new(SetupCheckLevel.Error, $"{Name}: offering '{offeringId}': template {template.Vmid} is on node '{template.Node}', not on '{node}' ({key}.{ProxmoxOfferingOptions.NodeKey} or {Name}.{ProxmoxOptions.NodeKey})"),
                _ => new(SetupCheckLevel.Ok, $"{Name}: offering '{offeringId}' clones template {template.Vmid} ({template.Name}) on node '{node}'"),
            });
        }
        return checks;
    }

    /// <summary>Each node's CPUs, load and memory, from <c>/nodes/{node}/status</c>; null when no node is configured.</summary>
    public async Task<JsonElement?> CollectResourcesAsync(CancellationToken cancellationToken)
    {
        var nodes = options.Offerings.Values.Select(options.NodeOf).Append(options.Node ?? "")
            .Where(node => node.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (nodes.Count == 0)
        {
            return null;
        }

        var result = new JsonObject();
        foreach (var node in nodes)
        {
            var status = await api.GetAsync($"nodes/{Uri.EscapeDataString(node)}/status", cancellationToken);
            var memory = status.GetProperty("memory");
            result[node] = new JsonObject
            {
                ["cpus"] = status.GetProperty("cpuinfo").GetProperty("cpus").GetInt32(),
                ["cpuLoad"] = status.GetProperty("cpu").GetDouble(),
                ["memoryTotalBytes"] = memory.GetProperty("total").GetInt64(),
                ["memoryFreeBytes"] = (memory.TryGetProperty("available", out var available) ? available : memory.GetProperty("free")).GetInt64(),
            };
        }
        return JsonSerializer.SerializeToElement(new JsonObject { ["nodes"] = result });
    }

    public static string ExternalId(int vmid) => $"qemu/{vmid.ToString(CultureInfo.InvariantCulture)}";

    private static int? ParseExternalId(string externalId) =>
        externalId.StartsWith("qemu/", StringComparison.Ordinal) && int.TryParse(externalId.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var vmid) ? vmid : null;

    /// <summary>Clones the template to a fresh VM id, trying another id while the one from <c>nextid</c> turns out taken.</summary>
    private async Task<VmInfo> CloneAsync(string contractId, string marker, ProxmoxOfferingOptions offering, CancellationToken cancellationToken)
    {
        var node = options.NodeOf(offering);
        for (var attempt = 1; attempt <= CloneAttempts; attempt++)
        {
            var vmid = ReadInt(await api.GetAsync("cluster/nextid", cancellationToken));
            ProxmoxLog.Cloning(logger, contractId, offering.TemplateVmid, node, vmid);
            var form = new List<(string, string)>
            {
                ("newid", vmid.ToString(CultureInfo.InvariantCulture)),
                ("name", marker),
                ("full", "1"),
                ("description", $"Decent Cloud contract {contractId}, provisioned by dc-agent"),
            };
            if (offering.Storage is { Length: > 0 } storage)
            {
                form.Add(("storage", storage));
            }
            if (offering.Pool is { Length: > 0 } pool)
            {
                form.Add(("pool", pool));
            }

            string upid;
            try
            {
                upid = ReadString(await api.PostAsync($"nodes/{Uri.EscapeDataString(node)}/qemu/{offering.TemplateVmid}/clone", form, cancellationToken));
            }
            catch (ProxmoxApiException ex) when (IsIdTaken(ex.Message))
            {
                ProxmoxLog.IdTaken(logger, contractId, vmid, ex.ProxmoxMessage, attempt, CloneAttempts);
                continue;
            }

            try
            {
                await RunTaskAsync(node, upid, $"clone of template {offering.TemplateVmid} to VM {vmid}", cancellationToken);
            }
            catch (ProxmoxTaskException ex) when (IsIdTaken(ex.ExitStatus))
            {
                // Another VM got the id first; it is not ours, so it is left alone.
                ProxmoxLog.IdTaken(logger, contractId, vmid, ex.ExitStatus, attempt, CloneAttempts);
                continue;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await DestroyHalfMadeAsync(contractId, vmid, ex, cancellationToken);
                throw;
            }
            return new VmInfo(vmid, node, marker, "stopped", Template: false, Lock: null, Tags: []);
        }
        throw new InvalidOperationException($"Proxmox: {CloneAttempts} VM ids in a row from /cluster/nextid were taken before the clone of template {offering.TemplateVmid} for contract {contractId}; try again later.");
    }

    private static bool IsIdTaken(string text) => text.Contains("already exists", StringComparison.OrdinalIgnoreCase);

    private IEnumerable<(string, string)> ConfigFor(Work work, string marker, ProxmoxOfferingOptions offering, string password)
    {
        yield return ("ciuser", offering.User);
        yield return ("cipassword", password);
        yield return ("ipconfig0", offering.IpConfig);
        yield return ("tags", $"{Tag};{marker}");
        yield return ("agent", "1");
        if (work.SshKey is { } key && key.Trim().Length > 0)
        {
            // Proxmox takes sshkeys already URI-encoded (space as %20, one key per line as %0A); the form encoding on
            // top is decoded by the server before it checks that encoding.
            yield return ("sshkeys", Uri.EscapeDataString(key.Trim().ReplaceLineEndings("\n")));
        }
        if (offering.Cores is { } cores)
        {
            yield return ("cores", cores.ToString(CultureInfo.InvariantCulture));
        }
        if (offering.MemoryMb is { } memory)
        {
            yield return ("memory", memory.ToString(CultureInfo.InvariantCulture));
        }
        if (offering.Nameserver is { Length: > 0 } nameserver)
        {
            yield return ("nameserver", nameserver);
        }
    }

    /// <summary>Polls the guest agent until it reports an address other than loopback and link-local, or the time runs out.</summary>
    private async Task<(string? Ipv4, string? Ipv6)> WaitForAddressAsync(VmInfo vm, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + TimeSpan.FromSeconds(options.GuestAgentTimeoutSeconds);
        var last = "no answer yet";
        while (true)
        {
            try
            {
                var addresses = Addresses(await api.GetAsync(VmPath(vm, "agent/network-get-interfaces"), cancellationToken));
                if (addresses.Ipv4 is not null || addresses.Ipv6 is not null)
                {
                    return addresses;
                }
                last = "only loopback or link-local addresses";
            }
            catch (ProxmoxApiException ex) when (ex.Status == (int)HttpStatusCode.InternalServerError)
            {
                // "QEMU guest agent is not running" while the guest boots.
                last = ex.ProxmoxMessage;
            }
            ProxmoxLog.WaitingForGuestAgent(logger, vm.Vmid, last);
            if (time.GetUtcNow() >= deadline)
            {
                throw new TimeoutException($"The QEMU guest agent of VM {vm.Vmid} reported no address within {options.GuestAgentTimeoutSeconds} s (last: {last}); "
                    + "the template needs qemu-guest-agent installed and enabled.");
            }
            await Task.Delay(timings.GuestAgentPoll, time, cancellationToken);
        }
    }

    private static (string? Ipv4, string? Ipv6) Addresses(JsonElement data)
    {
        string? ipv4 = null;
        string? ipv6 = null;
        if (!data.TryGetProperty("result", out var interfaces) || interfaces.ValueKind != JsonValueKind.Array)
        {
            return (null, null);
        }
        foreach (var item in interfaces.EnumerateArray())
        {
            if (Text(item, "name") == "lo" || !item.TryGetProperty("ip-addresses", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                continue;
            }
            foreach (var entry in list.EnumerateArray())
            {
                if (!IPAddress.TryParse(Text(entry, "ip-address"), out var address) || IPAddress.IsLoopback(address))
                {
                    continue;
                }
                if (address.AddressFamily == AddressFamily.InterNetwork && !IsLinkLocalV4(address))
                {
                    ipv4 ??= address.ToString();
                }
                else if (address.AddressFamily == AddressFamily.InterNetworkV6 && !address.IsIPv6LinkLocal)
                {
                    ipv6 ??= address.ToString();
                }
            }
        }
        return (ipv4, ipv6);
    }

    private static bool IsLinkLocalV4(IPAddress address) => address.GetAddressBytes() is [169, 254, ..];

    /// <summary>Follows a task to its end: OK (or warnings) returns; any other exit status is Proxmox's error.</summary>
    private async Task RunTaskAsync(string node, JsonElement upidData, string what, CancellationToken cancellationToken) =>
        await RunTaskAsync(node, ReadString(upidData), what, cancellationToken);

    private async Task RunTaskAsync(string node, string upid, string what, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + TimeSpan.FromSeconds(options.TaskTimeoutSeconds);
        while (true)
        {
            var status = await api.GetAsync($"nodes/{Uri.EscapeDataString(node)}/tasks/{Uri.EscapeDataString(upid)}/status", cancellationToken);
            if (Text(status, "status") == "stopped")
            {
                var exit = Text(status, "exitstatus") ?? "";
                if (exit == "OK" || exit.StartsWith("WARNINGS", StringComparison.Ordinal))
                {
                    return;
                }
                throw new ProxmoxTaskException(what, upid, exit.Length == 0 ? "ended without an exit status" : exit);
            }
            if (time.GetUtcNow() >= deadline)
            {
                throw new TimeoutException($"Proxmox task {what} still runs after {options.TaskTimeoutSeconds} s (task {upid}).");
            }
            await Task.Delay(timings.TaskPoll, time, cancellationToken);
        }
    }

    /// <summary>Waits while a task an earlier run started (a clone) still holds the VM's lock.</summary>
    private async Task<VmInfo> WaitUnlockedAsync(VmInfo vm, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + TimeSpan.FromSeconds(options.TaskTimeoutSeconds);
        var current = vm;
        while (true)
        {
            var status = await api.GetAsync(VmPath(vm, "status/current"), cancellationToken);
            current = current with { Status = Text(status, "status") ?? current.Status, Lock = Text(status, "lock") };
            if (current.Lock is null)
            {
                return current;
            }
            ProxmoxLog.WaitingForLock(logger, vm.Vmid, current.Lock);
            if (time.GetUtcNow() >= deadline)
            {
                throw new TimeoutException($"VM {vm.Vmid} is still locked ({current.Lock}) after {options.TaskTimeoutSeconds} s.");
            }
            await Task.Delay(timings.TaskPoll, time, cancellationToken);
        }
    }

    private async Task StopVmAsync(VmInfo vm, CancellationToken cancellationToken) =>
        await RunTaskAsync(vm.Node, await api.PostAsync(VmPath(vm, "status/stop"), [], cancellationToken), $"stop of VM {vm.Vmid}", cancellationToken);

    /// <summary>Stops and destroys a VM with its disks; false when it was gone already (Proxmox has no 404 for a VM).</summary>
    private async Task<bool> DestroyAsync(VmInfo vm, CancellationToken cancellationToken)
    {
        try
        {
            if (vm.Running)
            {
                await StopVmAsync(vm, cancellationToken);
            }
            var upid = await api.DeleteAsync(VmPath(vm, ""), cancellationToken, ("purge", "1"), ("destroy-unreferenced-disks", "1"));
            await RunTaskAsync(vm.Node, upid, $"destroy of VM {vm.Vmid}", cancellationToken);
            return true;
        }
        catch (ProxmoxApiException ex) when (ex.Says("does not exist"))
        {
            return false;
        }
    }

    /// <summary>
    /// Destroys a VM a failed provisioning left behind, but only when it carries the contract's name: an id taken by
    /// someone else is never touched. A failure here is logged; the next try finds the VM by its name and finishes it.
    /// </summary>
    private async Task DestroyHalfMadeAsync(string contractId, int vmid, Exception reason, CancellationToken cancellationToken)
    {
        try
        {
            var vm = (await ListVmsAsync(cancellationToken)).FirstOrDefault(v => v.Vmid == vmid);
            if (vm is null || vm.Name != Marker(contractId))
            {
                return;
            }
            ProxmoxLog.CleaningUp(logger, contractId, vmid, reason.Message);
            vm = await WaitUnlockedAsync(vm, cancellationToken);
            await DestroyAsync(vm, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or InvalidOperationException)
        {
            ProxmoxLog.CleanupFailed(logger, contractId, vmid, ex);
        }
    }

    /// <summary>The contract's VM, by the name the clone gave it or the tag the configuration added.</summary>
    private async Task<VmInfo?> FindAsync(string contractId, CancellationToken cancellationToken)
    {
        if (Marker(contractId) is not { } marker)
        {
            return null;
        }
        return (await ListVmsAsync(cancellationToken)).FirstOrDefault(vm => !vm.Template && (vm.Name == marker || vm.Tags.Contains(marker)));
    }

    private async Task<IReadOnlyList<VmInfo>> ListVmsAsync(CancellationToken cancellationToken)
    {
        var resources = await api.GetAsync("cluster/resources", cancellationToken, ("type", "vm"));
        return [.. resources.EnumerateArray()
            .Where(r => Text(r, "type") == "qemu" && r.TryGetProperty("vmid", out _))
            .Select(r => new VmInfo(
                ReadInt(r.GetProperty("vmid")),
                Text(r, "node") ?? "",
                Text(r, "name"),
                Text(r, "status") ?? "unknown",
                r.TryGetProperty("template", out var template) && ReadInt(template) == 1,
                Text(r, "lock"),
                [.. (Text(r, "tags") ?? "").Split([';', ',', ' '], StringSplitOptions.RemoveEmptyEntries)]))];
    }

    private static string VmPath(VmInfo vm, string rest) =>
        $"nodes/{Uri.EscapeDataString(vm.Node)}/qemu/{vm.Vmid.ToString(CultureInfo.InvariantCulture)}" + (rest.Length == 0 ? "" : "/" + rest);

    private static string NewPassword() => RandomNumberGenerator.GetString(PasswordAlphabet, PasswordLength);

    private static string? Text(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind != JsonValueKind.Null
            ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText()
            : null;

    /// <summary>An integer Proxmox may send as a number or a numeric string (older hosts do the latter for nextid).</summary>
    private static int ReadInt(JsonElement element) => element.ValueKind == JsonValueKind.String
        ? int.Parse(element.GetString()!, NumberStyles.Integer, CultureInfo.InvariantCulture)
        : element.GetInt32();

    private static string ReadString(JsonElement element) => element.ValueKind == JsonValueKind.String
        ? element.GetString()!
        : throw new InvalidOperationException($"Proxmox answered {element.GetRawText()} where a task id (UPID) was expected.");

    private sealed record VmInfo(int Vmid, string Node, string? Name, string Status, bool Template, string? Lock, IReadOnlyList<string> Tags)
    {
        public bool Running => Status == "running";
    }
}
