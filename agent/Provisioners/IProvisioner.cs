using System.Text.Json;
using DecentCloud.Agent.Api;

namespace DecentCloud.Agent.Provisioners;

/// <summary>
/// Where servers come from: one implementation per kind of infrastructure (<see cref="ProvisionerKinds"/> lists them).
/// The agent core takes the locks, keeps the state file, seals credentials and reports; a provisioner only makes, finds,
/// checks, stops and removes servers. Every server it makes carries the contract id (a label, a tag, a name) so that
/// <see cref="GetAsync"/> finds it after a crash and a second one is never made.
/// </summary>
internal interface IProvisioner
{
    /// <summary>The <c>provisioner</c> setting's value, also sent in heartbeats.</summary>
    string Name { get; }

    /// <summary>What it can do, sent in heartbeats (e.g. <c>ssh</c>).</summary>
    IReadOnlyList<string> Capabilities { get; }

    /// <summary>
    /// Starts or finishes a server for <paramref name="work"/>. Called again after a crash for a contract it may have
    /// started already, so it must find and return that server rather than make a second one.
    /// </summary>
    Task<ProvisionOutcome> ProvisionAsync(Work work, CancellationToken cancellationToken);

    /// <summary>Removes the contract's server (or asks for it to be removed and answers <see cref="TerminateOutcome.Waiting"/>).</summary>
    Task<TerminateOutcome> TerminateAsync(string contractId, string? externalId, CancellationToken cancellationToken);

    /// <summary>Stops the contract's server and keeps its disks (a paused contract), or asks for it and answers <see cref="StopOutcome.Waiting"/>.</summary>
    Task<StopOutcome> StopAsync(string contractId, string? externalId, CancellationToken cancellationToken);

    Task<HealthResult> CheckHealthAsync(InstanceReport instance, CancellationToken cancellationToken);

    /// <summary>The contract's server as the infrastructure knows it; null when there is none.</summary>
    Task<RunningInstance?> GetAsync(string contractId, CancellationToken cancellationToken);

    /// <summary>Every server it runs for Decent Cloud, for reconciling with the platform.</summary>
    Task<IReadOnlyList<RunningInstance>> ListRunningAsync(CancellationToken cancellationToken);

    /// <summary>Checks its own set-up (credentials, commands, reachability) for <c>dc-agent doctor</c>.</summary>
    Task<IReadOnlyList<SetupCheck>> VerifySetupAsync(CancellationToken cancellationToken);

    /// <summary>
    /// What the infrastructure has room for (free CPUs, memory, disk, servers), sent in heartbeats as a JSON object under
    /// the provisioner's name; null when it cannot tell.
    /// </summary>
    Task<JsonElement?> CollectResourcesAsync(CancellationToken cancellationToken);
}

/// <summary>A server just made, with its password in the clear: the agent seals it at once and never stores it.</summary>
internal sealed record ProvisionedServer(string ExternalId, string? Ipv4, string? Ipv6, string? Hostname, int SshPort, string? SshUser, string Password)
{
    public override string ToString() => $"ProvisionedServer {ExternalId} {Ipv4 ?? Hostname ?? Ipv6}:{SshPort}";
}

internal abstract record ProvisionOutcome
{
    public sealed record Provisioned(ProvisionedServer Server) : ProvisionOutcome;

    /// <summary>The work is with someone (a person, a slow API); a later call or command finishes it.</summary>
    public sealed record Waiting(string Message) : ProvisionOutcome;

    public sealed record Failed(string Reason) : ProvisionOutcome;
}

internal enum TerminateOutcome
{
    Terminated,
    Waiting,
}

internal enum StopOutcome
{
    Stopped,
    Waiting,
}

internal sealed record RunningInstance(string ExternalId, string? ContractId);

internal sealed record HealthResult(string Status, long? LatencyMs, string? Details);

internal enum SetupCheckLevel
{
    Ok,
    Warning,
    Error,
}

internal sealed record SetupCheck(SetupCheckLevel Level, string Message);
