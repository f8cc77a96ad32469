using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using DecentCloud.Agent.Api;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DecentCloud.Agent.Provisioners.Hetzner;

/// <summary>
/// Servers in a Hetzner Cloud project (docs/agent.md, "hetzner"). Each server and SSH key it makes carries the label
/// <c>decent-cloud-contract=&lt;contract id&gt;</c>, by which it is found again: before a create (so a crash between
/// the create and the report never makes a second server), for stop and terminate, and for reconciling. The server's
/// root password is generated here and set by cloud-init; the renter's SSH key is uploaded and given to the create.
/// </summary>
internal sealed partial class HetznerProvisioner(HetznerOptions options, HetznerClient client, HetznerTiming timing, TimeProvider time, ILogger logger) : IProvisioner
{
    public const string Name = "hetzner";

    /// <summary>The label naming the contract on every server and SSH key this provisioner makes.</summary>
    public const string ContractLabel = "decent-cloud-contract";

    /// <summary>Hetzner's system images log in as root.</summary>
    public const string SshUser = "root";

    /// <summary>The largest id the API has (2^53-1): no SSH key has it, so deleting it tells a read-only token (401) from a writing one (404).</summary>
    public const long ProbeId = 9007199254740991;

    private const int PasswordLength = 24;
    private const string PasswordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

    string IProvisioner.Name => Name;

    public IReadOnlyList<string> Capabilities { get; } = ["hetzner", "ssh"];

    /// <summary>A relative <c>token_file</c> is taken from the config file's folder, as the agent's own files are.</summary>
    private static HetznerOptions WithTokenFileResolved(HetznerOptions options, AgentConfigFolder folder)
    {
        if (!string.IsNullOrWhiteSpace(options.TokenFile))
        {
            options.TokenFile = folder.Resolve(options.TokenFile);
        }
        return options;
    }

    private TimeSpan ActionTimeout => TimeSpan.FromSeconds(options.ActionTimeoutSeconds);

    /// <summary>Its settings are <c>[hetzner]</c> (<see cref="HetznerOptions"/>).</summary>
    public static ProvisionerKind Kind { get; } = new(Name, ValidateSection, (services, section) => Create(
        WithTokenFileResolved(section.Get<HetznerOptions>() ?? new HetznerOptions(), AgentConfigFolder.Of(services)),
        services.GetRequiredService<TimeProvider>(),
        services.GetRequiredService<ILoggerFactory>()));

    public static HetznerProvisioner Create(HetznerOptions options, TimeProvider time, ILoggerFactory loggers, HetznerTiming? timing = null)
    {
        timing ??= HetznerTiming.Default;
        var logger = loggers.CreateLogger<HetznerProvisioner>();
        var token = new TokenSource(options);
        var client = new HetznerClient(HetznerClient.CreateHttpClient(options.ApiBaseUrl), token.Get, options.MaxRetries,
            TimeSpan.FromSeconds(options.RequestTimeoutSeconds), timing, time, logger);
        return new HetznerProvisioner(options, client, timing, time, logger);
    }

    private static IEnumerable<string> ValidateSection(IConfigurationSection section)
    {
        foreach (var unknown in ProvisionerKinds.UnknownKeys(section, HetznerOptions.Keys))
        {
            yield return unknown;
        }
        var options = section.Get<HetznerOptions>() ?? new HetznerOptions();
        var hasToken = !string.IsNullOrWhiteSpace(options.Token);
        var hasFile = !string.IsNullOrWhiteSpace(options.TokenFile);
        if (hasToken == hasFile)
        {
            yield return $"{Name}: set one of {Name}.{HetznerOptions.TokenFileKey} (a file holding the project's API token) or {Name}.{HetznerOptions.TokenKey} "
                + $"(or the DC_AGENT_HETZNER__TOKEN variable){(hasToken ? ", not both" : "")}";
        }
        if (options.ApiBaseUrl is not { IsAbsoluteUri: true } url || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            yield return $"{Name}.{HetznerOptions.ApiBaseUrlKey} must be an absolute http:// or https:// URL, such as https://api.hetzner.cloud/v1";
        }
        if (options.RequestTimeoutSeconds is < 1 or > 300)
        {
            yield return $"{Name}.{HetznerOptions.RequestTimeoutKey} must be between 1 and 300 seconds; got {options.RequestTimeoutSeconds}";
        }
        if (options.MaxRetries is < 0 or > 10)
        {
            yield return $"{Name}.{HetznerOptions.MaxRetriesKey} must be between 0 and 10; got {options.MaxRetries}";
        }
        if (options.ActionTimeoutSeconds is < 10 or > 3600)
        {
            yield return $"{Name}.{HetznerOptions.ActionTimeoutKey} must be between 10 and 3600 seconds; got {options.ActionTimeoutSeconds}";
        }
        foreach (var offering in section.GetSection(ProvisionerKinds.OfferingsKey).GetChildren())
        {
            var at = $"{Name}.{ProvisionerKinds.OfferingsKey}.{offering.Key}";
            foreach (var unknown in offering.GetChildren().Where(child => !HetznerOffering.Keys.Contains(child.Key, StringComparer.OrdinalIgnoreCase)))
            {
                yield return $"'{at}.{unknown.Key}' is not a setting of a {Name} offering; known: {string.Join(", ", HetznerOffering.Keys)}";
            }
            var settings = offering.Get<HetznerOffering>() ?? new HetznerOffering();
            if (string.IsNullOrWhiteSpace(settings.ServerType))
            {
                yield return $"{at}.{HetznerOffering.ServerTypeKey} must name a Hetzner server type, such as cx22";
            }
            if (string.IsNullOrWhiteSpace(settings.Image))
            {
                yield return $"{at}.{HetznerOffering.ImageKey} must name a Hetzner image, such as ubuntu-24.04";
            }
            if (settings.Location is { } location && string.IsNullOrWhiteSpace(location))
            {
                yield return $"{at}.{HetznerOffering.LocationKey} must name a Hetzner location, such as nbg1, or be left out";
            }
        }
    }

    public async Task<ProvisionOutcome> ProvisionAsync(Work work, CancellationToken cancellationToken)
    {
        var offering = OfferingOf(work);
        var selector = Selector(work.ContractId);
        var existing = (await client.ListServersAsync(selector, cancellationToken)).FirstOrDefault(s => s.Status != HetznerServerStatus.Deleting);
        if (existing is not null)
        {
            return await AdoptAsync(work.ContractId, existing, cancellationToken);
        }

        var password = NewPassword();
        long? serverId = null;
        try
        {
            var sshKey = work.SshKey is { } publicKey ? await EnsureSshKeyAsync(work.ContractId, publicKey, cancellationToken) : null;
            var request = new HetznerCreateServerRequest(
                ServerName(work.ContractId), offering.ServerType, offering.Image, offering.Location,
                sshKey is null ? null : [sshKey.Id.ToString(CultureInfo.InvariantCulture)],
                UserData(password), Labels(work.ContractId), StartAfterCreate: true);
            HetznerLog.ServerCreating(logger, work.ContractId, request.Name, request.ServerType, request.Image, request.Location ?? "(Hetzner's choice)");
            var (id, actions) = await CreateOrFindServerAsync(work.ContractId, request, cancellationToken);
            serverId = id;
            foreach (var action in actions)
            {
                var done = await client.WaitForActionAsync(action, ActionTimeout, cancellationToken);
                if (done.Status == HetznerActionStatus.Error)
                {
                    throw new HetznerActionException(done);
                }
            }
            var server = await WaitForRunningAsync(id, cancellationToken);
            return new ProvisionOutcome.Provisioned(Provisioned(work.ContractId, server, password));
        }
        catch (Exception ex) when (IsDefiniteFailure(ex))
        {
            // The server cannot be made as asked (its build failed, Hetzner refused it): remove what was made and
            // report the failure with Hetzner's own code and message.
            HetznerLog.CreateFailed(logger, work.ContractId, ex.Message);
            await CleanUpAsync(work.ContractId, serverId, cancellationToken);
            return new ProvisionOutcome.Failed($"Hetzner could not make the server: {ex.Message}");
        }
        catch (Exception ex) when (serverId is null && ex is HttpRequestException or TimeoutException)
        {
            // No server was made; the key uploaded for it is removed, and the next poll starts again.
            HetznerLog.CreateFailed(logger, work.ContractId, ex.Message);
            await CleanUpAsync(work.ContractId, serverId: null, cancellationToken);
            throw;
        }
    }

    public async Task<TerminateOutcome> TerminateAsync(string contractId, string? externalId, CancellationToken cancellationToken)
    {
        foreach (var server in await client.ListServersAsync(Selector(contractId), cancellationToken))
        {
            await DeleteServerAsync(contractId, server.Id, cancellationToken);
        }
        await DeleteSshKeysAsync(contractId, cancellationToken);
        return TerminateOutcome.Terminated;
    }

    public async Task<StopOutcome> StopAsync(string contractId, string? externalId, CancellationToken cancellationToken)
    {
        foreach (var server in await client.ListServersAsync(Selector(contractId), cancellationToken))
        {
            if (server.Status is HetznerServerStatus.Off or HetznerServerStatus.Deleting)
            {
                continue;
            }
            var done = await client.WaitForActionAsync(await client.ServerActionAsync(server.Id, "poweroff", cancellationToken), ActionTimeout, cancellationToken);
            if (done.Status == HetznerActionStatus.Error)
            {
                throw new HetznerActionException(done);
            }
            HetznerLog.PoweredOff(logger, contractId, server.Id);
        }
        return StopOutcome.Stopped;
    }

    public async Task<HealthResult> CheckHealthAsync(InstanceReport instance, CancellationToken cancellationToken)
    {
        if (!long.TryParse(instance.ExternalId, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return new HealthResult(HealthStatus.Unknown, null, $"'{instance.ExternalId}' is not a Hetzner server id");
        }
        var server = await client.GetServerAsync(id, cancellationToken);
        return server switch
        {
            null => new HealthResult(HealthStatus.Unhealthy, null, $"Hetzner server {id} does not exist"),
            { Status: HetznerServerStatus.Running } => new HealthResult(HealthStatus.Healthy, null, $"Hetzner server {id} is running"),
            _ => new HealthResult(HealthStatus.Unhealthy, null, $"Hetzner server {id} is {server.Status}"),
        };
    }

    public async Task<RunningInstance?> GetAsync(string contractId, CancellationToken cancellationToken) =>
        (await client.ListServersAsync(Selector(contractId), cancellationToken))
            .Where(server => server.Status != HetznerServerStatus.Deleting)
            .Select(server => new RunningInstance(server.Id.ToString(CultureInfo.InvariantCulture), contractId))
            .FirstOrDefault();

    public async Task<IReadOnlyList<RunningInstance>> ListRunningAsync(CancellationToken cancellationToken) =>
        [.. (await client.ListServersAsync(ContractLabel, cancellationToken))
            .Where(server => server.Status != HetznerServerStatus.Deleting)
            .Select(server => new RunningInstance(server.Id.ToString(CultureInfo.InvariantCulture), server.Labels?.GetValueOrDefault(ContractLabel)))];

    /// <summary>The API tells no project limits (a create over them fails with 403 <c>resource_limit_exceeded</c>), so the room is unknown.</summary>
    public Task<JsonElement?> CollectResourcesAsync(CancellationToken cancellationToken) => Task.FromResult<JsonElement?>(null);

    public async Task<IReadOnlyList<SetupCheck>> VerifySetupAsync(CancellationToken cancellationToken)
    {
        var checks = new List<SetupCheck>();
        try
        {
            var servers = await client.ListServersAsync(ContractLabel, cancellationToken);
            checks.Add(new(SetupCheckLevel.Ok, $"{Name}: the API token works ({options.ApiBaseUrl.GetLeftPart(UriPartial.Path)}); the project has {servers.Count} Decent Cloud server(s)"));
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or InvalidOperationException)
        {
            checks.Add(new(SetupCheckLevel.Error, ex is HetznerApiException { Code: "unauthorized" }
                ? $"{Name}: the API token is refused ({ex.Message}); create a token in the Hetzner Cloud Console (project, Security, API tokens) and put it in {Name}.{HetznerOptions.TokenFileKey}"
                : $"{Name}: the API cannot be read: {ex.Message}"));
            return checks;
        }

        try
        {
            await client.DeleteSshKeyAsync(ProbeId, cancellationToken);
            checks.Add(new(SetupCheckLevel.Ok, $"{Name}: the API token may write (Read & Write)"));
        }
        catch (HetznerApiException ex) when (ex.Code == "token_readonly")
        {
            checks.Add(new(SetupCheckLevel.Error, $"{Name}: the API token is read-only ({ex.Code}: {ex.ApiMessage}); it cannot create servers: create a Read & Write token for the project"));
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException)
        {
            checks.Add(new(SetupCheckLevel.Error, $"{Name}: could not tell whether the token may write: {ex.Message}"));
        }

        if (options.Offerings.Count == 0)
        {
            checks.Add(new(SetupCheckLevel.Warning, $"{Name}: no offerings under [{Name}.{ProvisionerKinds.OfferingsKey}]: it has no server type nor image for any contract"));
        }
        foreach (var (offeringId, offering) in options.Offerings)
        {
            try
            {
                checks.AddRange(await CheckOfferingAsync(offeringId, offering, cancellationToken));
            }
            catch (Exception ex) when (ex is HttpRequestException or TimeoutException)
            {
                checks.Add(new(SetupCheckLevel.Error, $"{Name}: offering '{offeringId}' could not be checked: {ex.Message}"));
            }
        }
        return checks;
    }

    private async Task<IReadOnlyList<SetupCheck>> CheckOfferingAsync(string offeringId, HetznerOffering offering, CancellationToken cancellationToken)
    {
        var at = $"{Name}: offering '{offeringId}'";
        var checks = new List<SetupCheck>();
        var type = First(await client.FindServerTypesAsync(offering.ServerType, cancellationToken));
        if (type is null)
        {
            checks.Add(new(SetupCheckLevel.Error, $"{at}: the server type '{offering.ServerType}' does not exist ({Name}.{ProvisionerKinds.OfferingsKey}.{offeringId}.{HetznerOffering.ServerTypeKey})"));
        }
        else if (type.Deprecated)
        {
            checks.Add(new(SetupCheckLevel.Warning, $"{at}: the server type '{type.Name}' is deprecated: Hetzner will stop offering it"));
        }
        else
        {
            checks.Add(new(SetupCheckLevel.Ok, $"{at}: the server type '{type.Name}' exists ({type.Architecture})"));
        }

        var images = await client.FindImagesAsync(offering.Image, type?.Architecture, cancellationToken);
        checks.Add(images.FirstOrDefault(image => image.Status == "available") is { } found
            ? new(SetupCheckLevel.Ok, $"{at}: the image '{found.Name}' is available")
            : new(SetupCheckLevel.Error, $"{at}: the image '{offering.Image}' {(images.Count == 0 ? "does not exist" : "is not available")}"
                + $"{(type?.Architecture is { } architecture ? $" for {architecture} servers" : "")} ({Name}.{ProvisionerKinds.OfferingsKey}.{offeringId}.{HetznerOffering.ImageKey})"));

        if (offering.Location is { } location)
        {
            if ((await client.FindLocationsAsync(location, cancellationToken)).Count == 0)
            {
                checks.Add(new(SetupCheckLevel.Error, $"{at}: the location '{location}' does not exist ({Name}.{ProvisionerKinds.OfferingsKey}.{offeringId}.{HetznerOffering.LocationKey})"));
            }
            else if (type is not null && !OffersIn(type, location))
            {
                checks.Add(new(SetupCheckLevel.Error, $"{at}: the server type '{type.Name}' is not available in '{location}'"));
            }
            else
            {
                checks.Add(new(SetupCheckLevel.Ok, $"{at}: the location '{location}' exists"));
            }
        }
        return checks;
    }

    /// <summary>Where the type can be made: its <c>locations</c> (with <c>available</c>), else the locations it has a price in.</summary>
    private static bool OffersIn(HetznerServerType type, string location) =>
        type.Locations is { Count: > 0 } locations
            ? locations.Any(l => l.Name == location && l.Available)
            : type.Prices?.Any(p => p.Location == location) ?? true;

    private HetznerOffering OfferingOf(Work work) =>
        work.OfferingId is { } id && options.Offerings.TryGetValue(id, out var offering)
            ? offering
            : throw new InvalidOperationException(
                $"Offering '{work.OfferingId}' of contract {work.ContractId} has no [{Name}.{ProvisionerKinds.OfferingsKey}.\"{work.OfferingId}\"] section: the {Name} provisioner does not know what server to make");

    /// <summary>
    /// <c>POST /servers</c>, which is not sent twice blindly: after a 5xx or no answer the server may exist, so it is
    /// looked for by its label first (NOTES of the API: no idempotency key exists). Answers the server and the actions to
    /// follow (none for a server found).
    /// </summary>
    private async Task<(long Id, IReadOnlyList<HetznerAction> Actions)> CreateOrFindServerAsync(string contractId, HetznerCreateServerRequest request, CancellationToken cancellationToken)
    {
        const int tries = 3;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var created = await client.CreateServerAsync(request, cancellationToken);
                return (created.Server.Id, [created.Action, .. created.NextActions ?? []]);
            }
            catch (Exception ex) when (IsUncertain(ex) || ex is HetznerApiException { Code: "uniqueness_error" })
            {
                HetznerLog.CreateUnanswered(logger, contractId, ex.Message);
                var found = (await client.ListServersAsync(Selector(contractId), cancellationToken)).FirstOrDefault(s => s.Status != HetznerServerStatus.Deleting);
                if (found is not null)
                {
                    return (found.Id, []);
                }
                if (attempt == tries || !IsUncertain(ex))
                {
                    throw;
                }
                await Task.Delay(timing.BackoffBase * attempt, time, cancellationToken);
            }
        }
    }

    /// <summary>A server found by its label (made before a crash): its password was never kept, so it gets a new one.</summary>
    private async Task<ProvisionOutcome> AdoptAsync(string contractId, HetznerServer existing, CancellationToken cancellationToken)
    {
        HetznerLog.ServerAdopted(logger, contractId, existing.Id, existing.Status);
        var server = await WaitForRunningAsync(existing.Id, cancellationToken);
        var reset = await client.ResetPasswordAsync(server.Id, cancellationToken);
        var done = await client.WaitForActionAsync(reset.Action, ActionTimeout, cancellationToken);
        if (done.Status == HetznerActionStatus.Error)
        {
            throw new HetznerActionException(done);
        }
        return new ProvisionOutcome.Provisioned(Provisioned(contractId, server, reset.RootPassword));
    }

    /// <summary>Reads the server until it runs (an <c>off</c> one is powered on once), at most the action timeout.</summary>
    private async Task<HetznerServer> WaitForRunningAsync(long id, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + ActionTimeout;
        var poweredOn = false;
        while (true)
        {
            var server = await client.GetServerAsync(id, cancellationToken)
                ?? throw new InvalidOperationException($"Hetzner server {id} disappeared while it was being made.");
            if (server.Status == HetznerServerStatus.Running)
            {
                return server;
            }
            if (server.Status == HetznerServerStatus.Off && !poweredOn)
            {
                poweredOn = true;
                var done = await client.WaitForActionAsync(await client.ServerActionAsync(id, "poweron", cancellationToken), ActionTimeout, cancellationToken);
                if (done.Status == HetznerActionStatus.Error)
                {
                    throw new HetznerActionException(done);
                }
                continue;
            }
            if (time.GetUtcNow() >= deadline)
            {
                throw new TimeoutException($"Hetzner server {id} did not run within {ActionTimeout.TotalSeconds:0} s (status {server.Status}).");
            }
            await Task.Delay(timing.ActionPollInterval, time, cancellationToken);
        }
    }

    private ProvisionedServer Provisioned(string contractId, HetznerServer server, string password)
    {
        var ipv4 = server.PublicNet?.Ipv4?.Ip;
        var ipv6 = HostAddress(server.PublicNet?.Ipv6?.Ip);
        HetznerLog.ServerReady(logger, contractId, server.Id, ipv4, ipv6);
        return new ProvisionedServer(server.Id.ToString(CultureInfo.InvariantCulture), ipv4, ipv6, Hostname: null, SshPort: 22, SshUser, password);
    }

    /// <summary>
    /// The API gives the server's IPv6 as its /64 network (<c>2001:db8::/64</c>); Hetzner's images configure the
    /// network's <c>::1</c> on the server, which is the address to reach it at.
    /// </summary>
    private static string? HostAddress(string? network)
    {
        if (network is null)
        {
            return null;
        }
        var slash = network.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IPAddress.TryParse(network[..slash], out var prefix))
        {
            return network;
        }
        var bytes = prefix.GetAddressBytes();
        bytes[^1] |= 1;
        return new IPAddress(bytes).ToString();
    }

    /// <summary>
    /// Uploads the renter's key, named and labelled by the contract. A 409 <c>uniqueness_error</c> means the key is
    /// there already: under this contract's name (an earlier try), or the same key under another name (fingerprint);
    /// either is used. A key found by fingerprint is not labelled for this contract, so terminating it leaves it be.
    /// </summary>
    private async Task<HetznerSshKey> EnsureSshKeyAsync(string contractId, string publicKey, CancellationToken cancellationToken)
    {
        var name = $"decent-cloud-{contractId}";
        try
        {
            var key = await client.CreateSshKeyAsync(new HetznerCreateSshKeyRequest(name, publicKey.Trim(), Labels(contractId)), cancellationToken);
            HetznerLog.SshKeyUploaded(logger, contractId, key.Id);
            return key;
        }
        catch (HetznerApiException ex) when (ex.Code == "uniqueness_error")
        {
            if (First(await client.ListSshKeysAsync("name", name, cancellationToken)) is { } named)
            {
                HetznerLog.SshKeyReused(logger, contractId, named.Id, "uploaded for this contract by an earlier try");
                return named;
            }
            if (Fingerprint(publicKey) is { } fingerprint && First(await client.ListSshKeysAsync("fingerprint", fingerprint, cancellationToken)) is { } same)
            {
                HetznerLog.SshKeyReused(logger, contractId, same.Id, "the same key, uploaded before as " + same.Name);
                return same;
            }
            throw;
        }
    }

    private async Task DeleteServerAsync(string contractId, long serverId, CancellationToken cancellationToken)
    {
        var action = await client.DeleteServerAsync(serverId, cancellationToken);
        if (action is null)
        {
            HetznerLog.AlreadyGone(logger, contractId, "server", serverId);
            return;
        }
        var done = await client.WaitForActionAsync(action, ActionTimeout, cancellationToken);
        if (done.Status == HetznerActionStatus.Error)
        {
            throw new HetznerActionException(done);
        }
        HetznerLog.ServerDeleted(logger, contractId, serverId);
    }

    private async Task DeleteSshKeysAsync(string contractId, CancellationToken cancellationToken)
    {
        foreach (var key in await client.ListSshKeysAsync("label_selector", Selector(contractId), cancellationToken))
        {
            if (await client.DeleteSshKeyAsync(key.Id, cancellationToken))
            {
                HetznerLog.SshKeyDeleted(logger, contractId, key.Id);
            }
            else
            {
                HetznerLog.AlreadyGone(logger, contractId, "SSH key", key.Id);
            }
        }
    }

    /// <summary>Removes what a failed create made: the server (if one was made) and the keys labelled for the contract.</summary>
    private async Task CleanUpAsync(string contractId, long? serverId, CancellationToken cancellationToken)
    {
        try
        {
            if (serverId is { } id)
            {
                await DeleteServerAsync(contractId, id, cancellationToken);
            }
            await DeleteSshKeysAsync(contractId, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException)
        {
            // The failure being reported matters more; what is left carries the contract's label, so the next
            // provisioning try or the termination finds it.
            HetznerLog.CleanupFailed(logger, contractId, ex);
        }
    }

    /// <summary>
    /// The server cannot be made as asked: its action ended in an error, or the API refused the create or the key for
    /// good (412 <c>resource_unavailable</c>, 422 <c>invalid_input</c>, 403 <c>resource_limit_exceeded</c>...). A refused
    /// token (401) or a forbidden project (403 <c>forbidden</c>, <c>maintenance</c>) is the provider's to fix and is tried
    /// again on the next poll instead.
    /// </summary>
    private static bool IsDefiniteFailure(Exception ex) => ex switch
    {
        HetznerActionException => true,
        HetznerApiException { Status: >= 400 and < 500 } api => api.Status is not (401 or 429) && api.Code is not ("forbidden" or "maintenance" or "conflict" or "locked"),
        _ => false,
    };

    /// <summary>A 5xx or no answer: the request may have been carried out.</summary>
    private static bool IsUncertain(Exception ex) =>
        ex is TimeoutException || ex is HetznerApiException { IsServerError: true } || (ex is HttpRequestException and not HetznerApiException);

    private static T? First<T>(IReadOnlyList<T> items)
        where T : class => items.Count > 0 ? items[0] : null;

    private static string Selector(string contractId) => $"{ContractLabel}={LabelValue(contractId)}";

    private static Dictionary<string, string> Labels(string contractId) => new(StringComparer.Ordinal) { [ContractLabel] = LabelValue(contractId) };

    /// <summary>Label values: at most 63 characters, letters or digits at both ends, <c>-_.</c> inside. Contract ids (Guids) are.</summary>
    private static string LabelValue(string contractId) =>
        LabelValuePattern().IsMatch(contractId)
            ? contractId
            : throw new InvalidOperationException($"Contract id '{contractId}' cannot be a Hetzner label value (at most 63 letters, digits, '-', '_' or '.').");

    /// <summary>A hostname (RFC 1123) unique in the project: <c>dc-</c> and the contract id.</summary>
    private static string ServerName(string contractId)
    {
        var name = "dc-" + NotHostname().Replace(contractId.ToLowerInvariant(), "-");
        return (name.Length > 63 ? name[..63] : name).TrimEnd('-');
    }

    /// <summary>cloud-init sets root's password (the alphabet needs no quoting in YAML) and allows password log-in beside the key.</summary>
    private static string UserData(string password) => $"""
        #cloud-config
        ssh_pwauth: true
        chpasswd:
          expire: false
          users:
            - name: {SshUser}
              password: "{password}"
              type: text
        """ + "\n";

    private static string NewPassword() => RandomNumberGenerator.GetString(PasswordAlphabet, PasswordLength);

    /// <summary>Hetzner's fingerprint of an OpenSSH public key: the MD5 of the key's bytes, as colon-separated hex.</summary>
    internal static string? Fingerprint(string publicKey)
    {
        var parts = publicKey.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2)
        {
            return null;
        }
        try
        {
            var blob = Convert.FromBase64String(parts[1]);
#pragma warning disable CA5351 // MD5 is how Hetzner names keys, not a security measure here.
            return string.Join(':', MD5.HashData(blob).Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
#pragma warning restore CA5351
        }
        catch (FormatException)
        {
            return null;
        }
    }

    [GeneratedRegex("^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,61}[a-zA-Z0-9])?$")]
    private static partial Regex LabelValuePattern();

    [GeneratedRegex("[^a-z0-9-]")]
    private static partial Regex NotHostname();

    /// <summary>The token from <c>token</c>, or the first line of <c>token_file</c>, read on first use and kept.</summary>
    private sealed class TokenSource(HetznerOptions options)
    {
        private string? token;

        public string Get()
        {
            if (token is not null)
            {
                return token;
            }
            if (!string.IsNullOrWhiteSpace(options.Token))
            {
                return token = options.Token.Trim();
            }
            var path = options.TokenFile ?? throw new InvalidOperationException($"Neither {Name}.{HetznerOptions.TokenKey} nor {Name}.{HetznerOptions.TokenFileKey} is set.");
            string? line;
            try
            {
                line = File.ReadLines(path).FirstOrDefault()?.Trim();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"{Name}.{HetznerOptions.TokenFileKey} '{path}' cannot be read: {ex.GetType().Name}", ex);
            }
            return token = string.IsNullOrEmpty(line) ? throw new InvalidOperationException($"{Name}.{HetznerOptions.TokenFileKey} '{path}' is empty.") : line;
        }
    }
}

/// <summary>A Hetzner action that ended in <c>error</c>, with the API's own code and message.</summary>
internal sealed class HetznerActionException(HetznerAction action)
    : InvalidOperationException($"Hetzner action {action.Id} ({action.Command}) failed: {action.Error?.Code}: {action.Error?.Message}")
{
    public HetznerAction Action { get; } = action;
}
