using System.Text.Json;
using System.Text.Json.Serialization;
using DecentCloud.Shared.Sealing;

namespace DecentCloud.Agent.Api;

// The agent API's wire shapes (docs/agent.md, "The API it calls"). JSON is camelCase; absent optional fields are left out.

internal sealed record PendingWork(IReadOnlyList<Work> Provision, IReadOnlyList<Work> Terminate, int? PollAfterSeconds);

internal sealed record Work(
    string ContractId,
    string? OfferingId,
    string RenterPubkey,
    string? SshKey,
    int Hours,
    string? State,
    DateTimeOffset? PaidAt,
    DateTimeOffset? ProvisionedAt = null,
    DateTimeOffset? EndsAt = null,
    WorkLock? Lock = null,
    WorkInstance? Instance = null);

internal sealed record WorkLock(string AgentPubkey, DateTimeOffset ExpiresAt);

internal sealed record WorkInstance(string ExternalId);

internal sealed record LockRequest(int? LeaseSeconds);

internal sealed record LockAnswer(string ContractId, string AgentPubkey, DateTimeOffset ExpiresAt);

internal static class ProvisioningStatus
{
    public const string Provisioning = "provisioning";
    public const string Provisioned = "provisioned";
    public const string Failed = "failed";
}

internal sealed record ProvisioningReport(string Status, string? Message = null, InstanceReport? Instance = null);

/// <summary>What the platform stores about an instance: addresses and the sealed credentials, never a password.</summary>
internal sealed record InstanceReport(
    string ExternalId,
    string? Ipv4,
    string? Ipv6,
    string? Hostname,
    int SshPort,
    string? SshUser,
    SealedCredentials SealedCredentials);

internal sealed record TerminatedReport(string? Message);

internal sealed record Heartbeat(string Version, string Provisioner, IReadOnlyList<string> Capabilities, int ActiveContracts, JsonElement? Resources = null);

internal sealed record HeartbeatAnswer(int PollSeconds, int HeartbeatSeconds, int HealthCheckSeconds);

internal sealed record ReconcileRequest(IReadOnlyList<ReconcileInstance> Instances);

internal sealed record ReconcileInstance(string ExternalId, string? ContractId);

internal sealed record ReconcileAnswer(IReadOnlyList<ReconcileKeep> Keep, IReadOnlyList<ReconcileTerminate> Terminate);

internal sealed record ReconcileKeep(string ExternalId, string? ContractId);

internal sealed record ReconcileTerminate(string ExternalId, string? ContractId, string Reason);

internal static class HealthStatus
{
    public const string Healthy = "healthy";
    public const string Unhealthy = "unhealthy";
    public const string Unknown = "unknown";
}

internal sealed record HealthReport(DateTimeOffset CheckedAt, string Status, long? LatencyMs = null, string? Details = null);

internal sealed record DelegationRequest(string AgentPublicKey, IReadOnlyList<string> Permissions, DateTimeOffset ExpiresAt, string? Label);

internal static class AgentJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
