using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using DecentCloud.Agent.Api;
using DecentCloud.Agent.State;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DecentCloud.Agent.Provisioners;

/// <summary>
/// A person provisions: new work runs the configured notify command and/or posts to the webhook, then waits until the
/// provider runs <c>dc-agent manual complete</c> (or <c>fail</c>, or <c>terminated</c>). Its servers are the ones
/// recorded in the state file; its health check is a TCP connect to the server's SSH port.
/// </summary>
internal sealed class ManualProvisioner(ManualOptions options, AgentStateStore store, HttpClient webhookClient, ILogger logger) : IProvisioner
{
    public const string Name = "manual";

    public const string ActionVariable = "DC_AGENT_ACTION";
    public const string ContractVariable = "DC_AGENT_CONTRACT_ID";

    private static readonly TimeSpan NotifyTimeout = TimeSpan.FromSeconds(60);

    string IProvisioner.Name => Name;

    public IReadOnlyList<string> Capabilities { get; } = ["manual", "ssh"];

    /// <summary>Its settings are <c>[manual]</c>, bound to <see cref="AgentOptions.Manual"/>.</summary>
    public static ProvisionerKind Kind { get; } = new(Name, ValidateSection, (services, _) => new ManualProvisioner(
        services.GetRequiredService<IOptions<AgentOptions>>().Value.Manual,
        services.GetRequiredService<AgentStateStore>(),
        new HttpClient { Timeout = TimeSpan.FromSeconds(30) },
        services.GetRequiredService<ILoggerFactory>().CreateLogger<ManualProvisioner>()));

    private static IEnumerable<string> ValidateSection(IConfigurationSection section)
    {
        foreach (var unknown in ProvisionerKinds.UnknownKeys(section, ManualOptions.Keys))
        {
            yield return unknown;
        }
        var options = section.Get<ManualOptions>() ?? new ManualOptions();
        if (options.HealthCheckTimeoutSeconds is < 1 or > 60)
        {
            yield return $"{Name}.{ManualOptions.HealthCheckTimeoutKey} must be between 1 and 60 seconds; got {options.HealthCheckTimeoutSeconds}";
        }
        if (options.NotifyWebhook is { } hook && (!hook.IsAbsoluteUri || (hook.Scheme != Uri.UriSchemeHttp && hook.Scheme != Uri.UriSchemeHttps)))
        {
            yield return $"{Name}.{ManualOptions.NotifyWebhookKey} must be an absolute http:// or https:// URL";
        }
        if (options.NotifyCommand.Length > 0 && string.IsNullOrWhiteSpace(options.NotifyCommand[0]))
        {
            yield return $"{Name}.{ManualOptions.NotifyCommandKey} must start with the program to run";
        }
    }

    public async Task<ProvisionOutcome> ProvisionAsync(Work work, CancellationToken cancellationToken)
    {
        await NotifyAsync(new Notice("provision", work.ContractId, work.OfferingId, work.RenterPubkey, work.SshKey, work.Hours, ExternalId: null), cancellationToken);
        return new ProvisionOutcome.Waiting($"waiting for 'dc-agent manual complete {work.ContractId}' or 'manual fail'");
    }

    public async Task<TerminateOutcome> TerminateAsync(string contractId, string? externalId, CancellationToken cancellationToken)
    {
        await NotifyAsync(new Notice("terminate", contractId, OfferingId: null, RenterPubkey: null, SshKey: null, Hours: null, externalId), cancellationToken);
        return TerminateOutcome.Waiting;
    }

    public async Task<StopOutcome> StopAsync(string contractId, string? externalId, CancellationToken cancellationToken)
    {
        await NotifyAsync(new Notice("stop", contractId, OfferingId: null, RenterPubkey: null, SshKey: null, Hours: null, externalId), cancellationToken);
        return StopOutcome.Waiting;
    }

    /// <summary>A person knows what room is left; the agent cannot tell.</summary>
    public Task<JsonElement?> CollectResourcesAsync(CancellationToken cancellationToken) => Task.FromResult<JsonElement?>(null);

    public async Task<HealthResult> CheckHealthAsync(InstanceReport instance, CancellationToken cancellationToken)
    {
        var host = instance.Ipv4 ?? instance.Hostname ?? instance.Ipv6;
        if (host is null)
        {
            return new HealthResult(HealthStatus.Unknown, null, "no address recorded for the instance");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.HealthCheckTimeoutSeconds));
        var watch = Stopwatch.StartNew();
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(host, instance.SshPort, timeout.Token);
            return new HealthResult(HealthStatus.Healthy, watch.ElapsedMilliseconds, $"tcp connect to {host}:{instance.SshPort}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new HealthResult(HealthStatus.Unhealthy, null, $"tcp connect to {host}:{instance.SshPort} timed out after {options.HealthCheckTimeoutSeconds} s");
        }
        catch (SocketException ex)
        {
            return new HealthResult(HealthStatus.Unhealthy, null, $"tcp connect to {host}:{instance.SshPort} failed: {ex.SocketErrorCode}");
        }
    }

    public async Task<RunningInstance?> GetAsync(string contractId, CancellationToken cancellationToken)
    {
        var state = await store.ReadAsync(cancellationToken);
        return state.Contracts.TryGetValue(contractId, out var record) && IsMine(record) && record.Instance is { } instance
            ? new RunningInstance(instance.ExternalId, contractId)
            : null;
    }

    public async Task<IReadOnlyList<RunningInstance>> ListRunningAsync(CancellationToken cancellationToken)
    {
        var state = await store.ReadAsync(cancellationToken);
        return [.. state.Contracts.Values
            .Where(record => IsMine(record) && record.Instance is not null)
            .Select(record => new RunningInstance(record.Instance!.ExternalId, record.ContractId))];
    }

    public Task<IReadOnlyList<SetupCheck>> VerifySetupAsync(CancellationToken cancellationToken)
    {
        var checks = new List<SetupCheck>();
        if (options.NotifyCommand.Length == 0 && options.NotifyWebhook is null)
        {
            checks.Add(new(SetupCheckLevel.Warning,
                "manual: neither notify_command nor notify_webhook is set: new contracts are only logged and shown by 'dc-agent status'"));
        }

        if (options.NotifyCommand is [var program, ..])
        {
            checks.Add(FindProgram(program) is { } found
                ? new(SetupCheckLevel.Ok, $"manual: notify_command runs {found}")
                : new(SetupCheckLevel.Error, $"manual: notify_command's program '{program}' is not an executable file nor found on PATH"));
        }

        if (options.NotifyWebhook is { } hook)
        {
            checks.Add(new(SetupCheckLevel.Ok, $"manual: new work is posted to {hook.GetLeftPart(UriPartial.Path)}"));
        }

        return Task.FromResult<IReadOnlyList<SetupCheck>>(checks);
    }

    /// <summary>Its servers are the state file's records it took on (records without a provisioner come from agents that had only this one).</summary>
    private static bool IsMine(ContractRecord record) => record.Provisioner is null or Name;

    private async Task NotifyAsync(Notice notice, CancellationToken cancellationToken)
    {
        if (options.NotifyCommand.Length == 0 && options.NotifyWebhook is null)
        {
            AgentLog.NothingToNotify(logger, notice.Action, notice.ContractId);
            return;
        }

        if (options.NotifyCommand.Length > 0)
        {
            await RunNotifyCommandAsync(notice, cancellationToken);
        }

        if (options.NotifyWebhook is { } hook)
        {
            using var response = await webhookClient.PostAsJsonAsync(hook, notice, AgentJson.Options, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"The notify webhook answered {(int)response.StatusCode} {response.ReasonPhrase} for contract {notice.ContractId}.");
            }
        }

        AgentLog.Notified(logger, notice.Action, notice.ContractId);
    }

    private async Task RunNotifyCommandAsync(Notice notice, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(options.NotifyCommand[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in options.NotifyCommand.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment[ActionVariable] = notice.Action;
        start.Environment[ContractVariable] = notice.ContractId;
        start.Environment["DC_AGENT_OFFERING_ID"] = notice.OfferingId ?? "";
        start.Environment["DC_AGENT_RENTER_PUBKEY"] = notice.RenterPubkey ?? "";
        start.Environment["DC_AGENT_SSH_KEY"] = notice.SshKey ?? "";
        start.Environment["DC_AGENT_HOURS"] = notice.Hours?.ToString(CultureInfo.InvariantCulture) ?? "";
        start.Environment["DC_AGENT_EXTERNAL_ID"] = notice.ExternalId ?? "";

        using var process = Process.Start(start)
            ?? throw new InvalidOperationException($"The notify command '{options.NotifyCommand[0]}' did not start.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(NotifyTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The notify command '{options.NotifyCommand[0]}' ran longer than {NotifyTimeout.TotalSeconds:0} s for contract {notice.ContractId}.");
        }

        await output;
        var stderr = (await errors).Trim();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"The notify command '{options.NotifyCommand[0]}' exited with {process.ExitCode} for contract {notice.ContractId}{(stderr.Length > 0 ? $": {Shorten(stderr)}" : "")}.");
        }
    }

    private static string Shorten(string text) => text.Length > 500 ? text[..500] + "…" : text;

    private static string? FindProgram(string program)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return IsExecutable(program) ? Path.GetFullPath(program) : null;
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, program))
            .FirstOrDefault(IsExecutable);
    }

    private static bool IsExecutable(string path) =>
        File.Exists(path) && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0);

    /// <summary>What the notify command gets in its environment and the webhook as JSON. No secrets: the renter's SSH key is public.</summary>
    internal sealed record Notice(string Action, string ContractId, string? OfferingId, string? RenterPubkey, string? SshKey, int? Hours, string? ExternalId);
}
