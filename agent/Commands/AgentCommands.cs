using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using DecentCloud.Agent.Api;
using DecentCloud.Agent.Provisioners;
using DecentCloud.Agent.State;
using DecentCloud.Shared.Signing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DecentCloud.Agent.Commands;

/// <summary><c>init</c>, <c>register</c>, <c>status</c>, <c>doctor</c> and <c>manual ...</c>: the commands beside the daemon.</summary>
internal static class AgentCommands
{
    public static readonly string[] AllPermissions = ["provision", "health_check", "heartbeat", "fetch_contracts"];

    public static async Task<int> InitAsync(CommandArgs args, TextWriter stdout, TextWriter stderr)
    {
        if (Refuse(args, stderr, "init", "config", "provider", "api", "key-file", "state-file") is { } refused)
        {
            return await refused;
        }
        if (args.ConfigPath is not { } configPath || args.Get("provider") is not { } provider)
        {
            return await UsageError(stderr, "init", "needs --config <file> and --provider <provider public key>");
        }
        if (!Ed25519phPublicKey.TryParse(provider, out var providerKey, out var keyError))
        {
            return await UsageError(stderr, "init", $"--provider is not a public key: {keyError}");
        }
        var api = args.Get("api") ?? "http://127.0.0.1:7071/api";
        if (!Uri.TryCreate(api, UriKind.Absolute, out var apiUrl) || apiUrl.Scheme is not ("http" or "https"))
        {
            return await UsageError(stderr, "init", "--api must be an absolute http:// or https:// URL");
        }

        configPath = Path.GetFullPath(configPath);
        if (File.Exists(configPath))
        {
            await stderr.WriteLineAsync($"dc-agent init: {configPath} exists already; it is not overwritten.");
            return 1;
        }

        var configDirectory = Path.GetDirectoryName(configPath)!;
        var keyFile = args.Get("key-file") ?? "agent.key";
        var keyPath = Path.GetFullPath(keyFile, configDirectory);
        Ed25519phKey key;
        try
        {
            Directory.CreateDirectory(configDirectory);
            if (File.Exists(keyPath))
            {
                key = AgentIdentity.ReadKey(keyPath);
                await stdout.WriteLineAsync($"Using the existing agent key in {keyPath}.");
            }
            else
            {
                key = AgentIdentity.CreateKeyFile(keyPath);
                await stdout.WriteLineAsync($"Wrote a new agent key to {keyPath} (mode 600).");
            }

            await File.WriteAllTextAsync(configPath, ConfigTemplate(apiUrl, providerKey.Hex, keyFile, args.Get("state-file") ?? "dc-agent-state.json"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            await stderr.WriteLineAsync($"dc-agent init: {ex.Message}");
            return 1;
        }

        await stdout.WriteLineAsync($"Wrote {configPath}.");
        await stdout.WriteLineAsync($"Agent public key: {key.PublicKeyHex}");
        await stdout.WriteLineAsync($"Next: dc-agent register --config {configPath} --provider-key-file <the provider's key file>");
        return 0;
    }

    public static async Task<int> RegisterAsync(CommandArgs args, TextWriter stdout, TextWriter stderr, TimeProvider time, CancellationToken cancellationToken)
    {
        if (Refuse(args, stderr, "register", "config", "provider-key-file", "label", "days") is { } refused)
        {
            return await refused;
        }
        if (args.Get("provider-key-file") is not { } providerKeyFile)
        {
            return await UsageError(stderr, "register", "needs --provider-key-file <file> (the provider's own key, which signs the delegation)");
        }
        var days = 365;
        if (args.Get("days") is { } daysText && (!int.TryParse(daysText, NumberStyles.None, CultureInfo.InvariantCulture, out days) || days is < 1 or > 365))
        {
            return await UsageError(stderr, "register", "--days must be a whole number from 1 to 365");
        }

        using var host = CreateCommandHost(args.ConfigPath, configure: null);
        if (await LoadAsync(host, stderr, "register") is not var (settings, identity) )
        {
            return 1;
        }

        Ed25519phKey providerKey;
        try
        {
            providerKey = AgentIdentity.ReadKey(providerKeyFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            await stderr.WriteLineAsync($"dc-agent register: cannot read the provider key file '{providerKeyFile}': {ex.Message}");
            return 1;
        }
        if (!string.Equals(providerKey.PublicKeyHex, settings.ProviderPubkey, StringComparison.OrdinalIgnoreCase))
        {
            await stderr.WriteLineAsync($"dc-agent register: the key in {providerKeyFile} is {providerKey.PublicKeyHex}, not the provider_pubkey of the config ({settings.ProviderPubkey}).");
            return 1;
        }

        var delegation = new DelegationRequest(identity.AgentPubkey, AllPermissions, time.GetUtcNow().AddDays(days),
            args.Get("label") ?? $"dc-agent on {Environment.MachineName}");
        using var http = AgentApiClient.CreateHttpClient(settings.ApiBaseUrl, providerKey, time);
        try
        {
            using var response = await http.PostAsJsonAsync($"v1/providers/{providerKey.PublicKeyHex}/agent-delegations", delegation, AgentJson.Options, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                await stderr.WriteLineAsync($"dc-agent register: the API refused the delegation: {(int)response.StatusCode} {response.ReasonPhrase}\n{body}");
                return 1;
            }
        }
        catch (HttpRequestException ex)
        {
            await stderr.WriteLineAsync($"dc-agent register: {settings.ApiBaseUrl} did not answer: {ex.Message}");
            return 1;
        }

        await stdout.WriteLineAsync($"Agent {identity.AgentPubkey} may act for provider {providerKey.PublicKeyHex} until {delegation.ExpiresAt:yyyy-MM-dd} ({string.Join(", ", AllPermissions)}).");
        await stdout.WriteLineAsync($"Next: dc-agent run --config {args.ConfigPath}");
        return 0;
    }

    public static async Task<int> StatusAsync(CommandArgs args, TextWriter stdout, TextWriter stderr, Action<HostApplicationBuilder>? configure, CancellationToken cancellationToken)
    {
        if (Refuse(args, stderr, "status", "config") is { } refused)
        {
            return await refused;
        }
        using var host = CreateCommandHost(args.ConfigPath, configure);
        if (await LoadAsync(host, stderr, "status") is not var (settings, identity))
        {
            return 1;
        }

        await stdout.WriteLineAsync($"config          {(args.ConfigPath is null ? "(none: environment only)" : Path.GetFullPath(args.ConfigPath))}");
        await stdout.WriteLineAsync($"api             {settings.ApiBaseUrl}");
        await stdout.WriteLineAsync($"provider        {settings.ProviderPubkey}");
        await stdout.WriteLineAsync($"agent           {identity.AgentPubkey}");
        await stdout.WriteLineAsync($"provisioner     {settings.Provisioner}");
        await stdout.WriteLineAsync($"state file      {settings.StateFile}");

        var ok = true;
        var reachable = await ApiHealthAsync(settings.ApiBaseUrl, cancellationToken);
        await stdout.WriteLineAsync($"api reachable   {reachable.Message}");
        ok &= reachable.Ok;

        var delegation = await DelegationAsync(host.Services.GetRequiredService<AgentApiClient>(), cancellationToken);
        await stdout.WriteLineAsync($"delegation      {delegation.Message}");
        ok &= delegation.Ok;

        var state = await host.Services.GetRequiredService<AgentStateStore>().ReadAsync(cancellationToken);
        await stdout.WriteLineAsync($"last heartbeat  {(state.LastHeartbeatAt is { } at ? at.ToString("u", CultureInfo.InvariantCulture) : "never")}");
        await stdout.WriteLineAsync($"contracts       {state.Contracts.Count}");
        foreach (var record in state.Contracts.Values.OrderBy(r => r.UpdatedAt))
        {
            var where = record.Instance is { } i ? $"{i.ExternalId} {i.Ipv4 ?? i.Hostname ?? i.Ipv6}:{i.SshPort}" : "-";
            await stdout.WriteLineAsync($"  {record.ContractId}  {record.Phase}  {where}  since {record.UpdatedAt:u}{(record.Message is null ? "" : $"  ({record.Message})")}");
        }
        return ok ? 0 : 1;
    }

    public static async Task<int> DoctorAsync(CommandArgs args, TextWriter stdout, TextWriter stderr, Action<HostApplicationBuilder>? configure, CancellationToken cancellationToken)
    {
        if (Refuse(args, stderr, "doctor", "config") is { } refused)
        {
            return await refused;
        }
        using var host = CreateCommandHost(args.ConfigPath, configure);
        if (await LoadAsync(host, stderr, "doctor") is not var (settings, _))
        {
            return 1;
        }

        var checks = new List<SetupCheck> { new(SetupCheckLevel.Ok, "settings are valid") };
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(settings.AgentKeyFile);
            var othersMayRead = (mode & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0;
            checks.Add(othersMayRead
                ? new(SetupCheckLevel.Error, $"the agent key file {settings.AgentKeyFile} can be read by others; run: chmod 600 {settings.AgentKeyFile}")
                : new(SetupCheckLevel.Ok, $"the agent key file {settings.AgentKeyFile} is readable by its owner only"));
        }

        checks.Add(await StateFileCheckAsync(host.Services.GetRequiredService<AgentStateStore>(), cancellationToken));

        var reachable = await ApiHealthAsync(settings.ApiBaseUrl, cancellationToken);
        checks.Add(new(reachable.Ok ? SetupCheckLevel.Ok : SetupCheckLevel.Error, $"API: {reachable.Message}"));
        if (reachable.Ok)
        {
            var delegation = await DelegationAsync(host.Services.GetRequiredService<AgentApiClient>(), cancellationToken);
            checks.Add(new(delegation.Ok ? SetupCheckLevel.Ok : SetupCheckLevel.Error, $"delegation: {delegation.Message}"));
        }

        foreach (var provisioner in host.Services.GetRequiredService<ProvisionerSet>().All)
        {
            checks.AddRange(await provisioner.VerifySetupAsync(cancellationToken));
        }

        foreach (var check in checks)
        {
            await stdout.WriteLineAsync($"{check.Level.ToString().ToLowerInvariant(),-8}{check.Message}");
        }
        var errors = checks.Count(check => check.Level == SetupCheckLevel.Error);
        await stdout.WriteLineAsync(errors == 0 ? "dc-agent is ready to run." : $"{errors} problem(s) to fix before 'dc-agent run'.");
        return errors == 0 ? 0 : 1;
    }

    public static async Task<int> ManualAsync(IReadOnlyList<string> rest, TextWriter stdout, TextWriter stderr, Action<HostApplicationBuilder>? configure, CancellationToken cancellationToken)
    {
        var args = CommandArgs.Parse(rest);
        if (args.Error is not null)
        {
            return await UsageError(stderr, "manual", args.Error);
        }
        switch (args.Positional)
        {
            case ["complete", var contractId]:
                return await ManualCompleteAsync(contractId, args, stdout, stderr, configure, cancellationToken);
            case ["fail", var contractId]:
                if (Refuse(args, stderr, "manual fail", "config", "reason") is { } refusedFail)
                {
                    return await refusedFail;
                }
                if (args.Get("reason") is not { Length: > 0 } reason)
                {
                    return await UsageError(stderr, "manual fail", "needs --reason <text> (the renter sees it)");
                }
                return await WithWorkerAsync(args, stderr, "manual fail", configure, async (worker, api) =>
                {
                    var work = await FindPendingAsync(api, contractId, cancellationToken);
                    await worker.FailAsync(contractId, work.RenterPubkey, reason, cancellationToken);
                    await stdout.WriteLineAsync($"Contract {contractId} reported failed: {reason}");
                });
            case ["terminated", var contractId]:
                if (Refuse(args, stderr, "manual terminated", "config", "message") is { } refusedTerminated)
                {
                    return await refusedTerminated;
                }
                return await WithWorkerAsync(args, stderr, "manual terminated", configure, async (worker, _) =>
                {
                    await worker.ConfirmTerminatedAsync(contractId, args.Get("message") ?? "terminated by hand", cancellationToken);
                    await stdout.WriteLineAsync($"Contract {contractId} reported terminated.");
                });
            default:
                return await UsageError(stderr, "manual", "needs 'complete <contract>', 'fail <contract>' or 'terminated <contract>'");
        }
    }

    private static async Task<int> ManualCompleteAsync(string contractId, CommandArgs args, TextWriter stdout, TextWriter stderr, Action<HostApplicationBuilder>? configure, CancellationToken cancellationToken)
    {
        if (Refuse(args, stderr, "manual complete", "config", "host", "port", "user", "password-file", "external-id") is { } refused)
        {
            return await refused;
        }
        if (args.Get("host") is not { Length: > 0 } address || args.Get("password-file") is not { } passwordFile || args.Get("user") is not { Length: > 0 } user)
        {
            return await UsageError(stderr, "manual complete", "needs --host <address>, --user <user> and --password-file <file>");
        }
        if (!int.TryParse(args.Get("port") ?? "22", NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return await UsageError(stderr, "manual complete", "--port must be a TCP port (1 to 65535)");
        }

        string password;
        try
        {
            // The file's last line break is not part of the password (echo and editors add one).
            password = (await File.ReadAllTextAsync(passwordFile, cancellationToken)).TrimEnd('\r', '\n');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"dc-agent manual complete: cannot read the password file: {ex.Message}");
            return 1;
        }
        if (password.Length == 0)
        {
            await stderr.WriteLineAsync("dc-agent manual complete: the password file is empty.");
            return 1;
        }

        string? ipv4 = null, ipv6 = null, hostname = null;
        if (IPAddress.TryParse(address, out var ip))
        {
            if (ip.AddressFamily == AddressFamily.InterNetwork)
            {
                ipv4 = ip.ToString();
            }
            else
            {
                ipv6 = ip.ToString();
            }
        }
        else
        {
            hostname = address;
        }
        var server = new ProvisionedServer(args.Get("external-id") ?? $"manual-{contractId}", ipv4, ipv6, hostname, port, user, password);

        return await WithWorkerAsync(args, stderr, "manual complete", configure, async (worker, api) =>
        {
            var work = await FindPendingAsync(api, contractId, cancellationToken);
            await worker.CompleteAsync(contractId, work.RenterPubkey, server, cancellationToken);
            await stdout.WriteLineAsync($"Contract {contractId} reported provisioned: {address}:{port}, user {user}; the password was sealed to renter {work.RenterPubkey} and is not stored.");
        });
    }

    private static async Task<Work> FindPendingAsync(AgentApiClient api, string contractId, CancellationToken cancellationToken)
    {
        var pending = await api.GetPendingAsync(cancellationToken);
        return pending.Provision.FirstOrDefault(work => work.ContractId == contractId)
            ?? throw new InvalidOperationException($"contract {contractId} is not waiting to be provisioned by this provider (not in the pending work); 'dc-agent status' lists what this agent holds.");
    }

    private static async Task<int> WithWorkerAsync(CommandArgs args, TextWriter stderr, string command, Action<HostApplicationBuilder>? configure, Func<AgentWorker, AgentApiClient, Task> action)
    {
        using var host = CreateCommandHost(args.ConfigPath, configure);
        if (await LoadAsync(host, stderr, command) is null)
        {
            return 1;
        }

        try
        {
            await action(host.Services.GetRequiredService<AgentWorker>(), host.Services.GetRequiredService<AgentApiClient>());
            return 0;
        }
        catch (Exception ex) when (ex is AgentApiException or InvalidOperationException or FormatException or IOException)
        {
            await stderr.WriteLineAsync($"dc-agent {command}: {ex.Message}");
            return 1;
        }
    }

    /// <summary>A host without the loop: the same settings and services as <c>run</c>, logs to stderr.</summary>
    private static IHost CreateCommandHost(string? configPath, Action<HostApplicationBuilder>? configure)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        Program.AddConfiguration(builder.Configuration, configPath);
        builder.Logging
            .AddConfiguration(builder.Configuration.GetSection(AgentOptions.LoggingSection))
            .AddSimpleConsole(console => console.SingleLine = true)
            .AddFilter("Microsoft", LogLevel.Warning);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        Program.AddAgentServices(builder.Services, builder.Configuration, configPath);
        configure?.Invoke(builder);
        return builder.Build();
    }

    /// <summary>The settings and the agent's key, or null after saying on stderr what is wrong.</summary>
    private static async Task<(AgentOptions Settings, AgentIdentity Identity)?> LoadAsync(IHost host, TextWriter stderr, string command)
    {
        try
        {
            var settings = host.Services.GetRequiredService<IOptions<AgentOptions>>().Value;
            return (settings, host.Services.GetRequiredService<AgentIdentity>());
        }
        catch (OptionsValidationException ex)
        {
            await stderr.WriteLineAsync($"dc-agent {command}: invalid settings: {ex.Message}");
        }
        catch (InvalidDataException ex)
        {
            await stderr.WriteLineAsync($"dc-agent {command}: {Program.Describe(ex)}");
        }
        catch (FileNotFoundException ex)
        {
            await stderr.WriteLineAsync($"dc-agent {command}: cannot read the config file: {ex.Message}");
        }
        return null;
    }

    private static async Task<(bool Ok, string Message)> ApiHealthAsync(Uri apiBaseUrl, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = AgentApiClient.WithTrailingSlash(apiBaseUrl), Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            using var response = await http.GetAsync("health", cancellationToken);
            return ((int)response.StatusCode < 500 || response.StatusCode == HttpStatusCode.ServiceUnavailable,
                $"{apiBaseUrl}health answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return (false, $"{apiBaseUrl} did not answer: {ex.Message}");
        }
    }

    private static async Task<(bool Ok, string Message)> DelegationAsync(AgentApiClient api, CancellationToken cancellationToken)
    {
        try
        {
            var pending = await api.GetPendingAsync(cancellationToken);
            return (true, $"valid: the API lists {pending.Provision.Count} contract(s) to provision and {pending.Terminate.Count} to terminate for this agent");
        }
        catch (AgentApiException ex)
        {
            var hint = ex.Status == HttpStatusCode.Forbidden ? " (run 'dc-agent register' with the provider's key)" : "";
            return (false, $"not usable: {ex.Message}{hint}");
        }
    }

    private static async Task<SetupCheck> StateFileCheckAsync(AgentStateStore store, CancellationToken cancellationToken)
    {
        try
        {
            var state = await store.UpdateAsync(state => state, cancellationToken);
            return new(SetupCheckLevel.Ok, $"the state file {store.Path} is readable and writable ({state.Contracts.Count} contract(s))");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new(SetupCheckLevel.Error, $"the state file {store.Path}: {ex.Message}");
        }
    }

    private static Task<int>? Refuse(CommandArgs args, TextWriter stderr, string command, params string[] known)
    {
        if (args.Error is not null)
        {
            return UsageError(stderr, command, args.Error);
        }
        if (args.Unknown(known).FirstOrDefault() is { } unknown)
        {
            return UsageError(stderr, command, $"unknown option --{unknown}");
        }
        return null;
    }

    private static async Task<int> UsageError(TextWriter stderr, string command, string problem)
    {
        await stderr.WriteLineAsync($"dc-agent {command}: {problem}. Try 'dc-agent --help'.");
        return 2;
    }

    public static string ConfigTemplate(Uri api, string providerPubkey, string keyFile, string stateFile) => $"""
        # dc-agent configuration (docs/agent.md). Any key can be overridden by an environment variable
        # DC_AGENT_<KEY IN CAPITALS>; a key of [manual] by DC_AGENT_MANUAL__<KEY>.

        # The Decent Cloud API.
        api_base_url = "{api}"

        # The provider this agent works for; the provider delegates to the agent with 'dc-agent register'.
        provider_pubkey = "{providerPubkey}"

        # The agent's own key (mode 600) and the file it keeps its work in; relative to this file's folder.
        agent_key_file = "{keyFile}"
        state_file = "{stateFile}"

        provisioner = "manual"

        # Where the platform suggests other intervals in its heartbeat answer, those are used instead.
        poll_interval_seconds = 30
        heartbeat_interval_seconds = 60
        health_check_interval_seconds = 300

        [manual]
        # Run for each new contract (and each termination), not through a shell; DC_AGENT_ACTION and
        # DC_AGENT_CONTRACT_ID (and more, see docs/agent.md) are in its environment.
        # notify_command = ["/usr/local/bin/dc-new-contract"]
        # Or/and a URL that receives the same facts as JSON.
        # notify_webhook = "https://hooks.example.com/dc-agent"
        health_check_timeout_seconds = 5

        [Logging.LogLevel]
        Default = "Information"

        """;
}
