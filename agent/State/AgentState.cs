using System.Text.Json;
using System.Text.Json.Serialization;
using DecentCloud.Agent.Api;

namespace DecentCloud.Agent.State;

/// <summary>Where a contract stands on this agent. The order is the order a contract goes through.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ContractPhase>))]
internal enum ContractPhase
{
    /// <summary>Locked and recorded; the provisioner was asked (or is about to be) to provision it.</summary>
    Provisioning,

    /// <summary>The provisioner has the work and answers later (the Manual provisioner waits for <c>manual complete</c>).</summary>
    Waiting,

    /// <summary>Provisioned and sealed; the <c>provisioned</c> report has not been acknowledged yet.</summary>
    ReportPending,

    /// <summary>Failed; the <c>failed</c> report has not been acknowledged yet.</summary>
    FailurePending,

    /// <summary>Provisioned and reported: in service, health-checked.</summary>
    Provisioned,

    /// <summary>Terminated here; the <c>terminated</c> report has not been acknowledged yet.</summary>
    TerminationPending,

    /// <summary>The provisioner was asked to terminate and answers later (the Manual provisioner waits for the operator).</summary>
    TerminationWaiting,
}

/// <summary>One contract this agent took on. Holds the sealed credentials only: never a password.</summary>
internal sealed record ContractRecord
{
    public required string ContractId { get; init; }

    public required string RenterPubkey { get; init; }

    public required ContractPhase Phase { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The provisioner that took the contract on (<see cref="Provisioners.IProvisioner.Name"/>); null in records of older agents, which had only the Manual one.</summary>
    public string? Provisioner { get; init; }

    public InstanceReport? Instance { get; init; }

    public string? Message { get; init; }

    public DateTimeOffset? NotifiedAt { get; init; }
}

/// <summary>The state file's content: the contracts in hand and the last heartbeat's answer.</summary>
internal sealed record AgentState
{
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    public Dictionary<string, ContractRecord> Contracts { get; init; } = new(StringComparer.Ordinal);

    public DateTimeOffset? LastHeartbeatAt { get; init; }

    public HeartbeatAnswer? LastHeartbeatAnswer { get; init; }

    public static JsonSerializerOptions Json { get; } = new(AgentJson.Options) { WriteIndented = true };
}
