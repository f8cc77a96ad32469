using System.Text.Json;
using System.Text.Json.Serialization;
using DecentCloud.Functions.Marketplace.Contracts;

namespace DecentCloud.Functions.Provisioning.Agents;

/// <summary>The body of <c>POST .../contracts/{id}/lock</c>; the lease defaults to 600 seconds.</summary>
public sealed record LockRequest(int? LeaseSeconds)
{
    public const int DefaultLeaseSeconds = 600;
    public const int MinLeaseSeconds = 60;
    public const int MaxLeaseSeconds = 3600;
}

public sealed record LockView(string ContractId, string AgentPubkey, DateTimeOffset ExpiresAt);

/// <summary>
/// Credentials sealed to the renter's key (v2: X25519 from the renter's Ed25519 key, XChaCha20-Poly1305, the contract id
/// as associated data), each part base64. Any other member is refused.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record SealedCredentials(int? Version, string? EphemeralPubkey, string? Nonce, string? Ciphertext, string? Aad);

/// <summary>
/// The instance an agent provisioned: where it is and its sealed credentials, and nothing else. Any other member
/// (<c>password</c>, <c>credentials</c>, <c>privateKey</c>...) is refused, so plaintext credentials can never be stored.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record InstanceReport(string? ExternalId, string? Ipv4, string? Ipv6, string? Hostname, int? SshPort, string? SshUser, SealedCredentials? SealedCredentials);

/// <summary>The body of <c>POST .../contracts/{id}/provisioning</c>; <see cref="Instance"/> comes with <c>provisioned</c> only.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ProvisioningReport(string? Status, string? Message, InstanceReport? Instance)
{
    public const string Provisioning = "provisioning";
    public const string Provisioned = "provisioned";
    public const string Failed = "failed";
    public const int MaxMessageLength = 2000;
}

public sealed record ReportAccepted(string ContractId, string Status);

/// <summary>The body of <c>POST .../contracts/{id}/terminated</c>.</summary>
public sealed record TerminatedReport(string? Message);

/// <summary>The body of <c>POST .../heartbeat</c>.</summary>
public sealed record HeartbeatRequest(string? Version, string? Provisioner, IReadOnlyList<string>? Capabilities, int? ActiveContracts, JsonElement? Resources);

/// <summary>The intervals the API suggests; dc-agent honours them over its own configuration.</summary>
public sealed record SuggestedIntervals(int PollSeconds, int HeartbeatSeconds, int HealthCheckSeconds);

/// <summary>The body of <c>POST .../reconcile</c>: the instances the agent runs.</summary>
public sealed record ReconcileRequest(IReadOnlyList<RunningInstance?>? Instances)
{
    public const int MaxInstances = 5000;
}

public sealed record RunningInstance(string? ExternalId, string? ContractId);

public sealed record ReconcileAnswer(IReadOnlyList<KeptInstance> Keep, IReadOnlyList<InstanceToTerminate> Terminate);

public sealed record KeptInstance(string ExternalId, string ContractId);

/// <param name="Reason"><c>ended</c>: its contract ended or is to be terminated; <c>unknown</c>: no contract of this provider has it.</param>
public sealed record InstanceToTerminate(string ExternalId, string? ContractId, string Reason);

/// <summary>The body of <c>POST .../contracts/{id}/health</c>.</summary>
public sealed record HealthReport(DateTimeOffset? CheckedAt, string? Status, int? LatencyMs, JsonElement? Details)
{
    public const int MaxBodyBytes = 16 * 1024;
    public const int MaxDetailsLength = 4096;
}

/// <summary>The answer of <c>GET .../provisioning/pending</c>.</summary>
public sealed record PendingWork(IReadOnlyList<Work> Provision, IReadOnlyList<Work> Terminate, int PollAfterSeconds);

/// <summary>A contract an agent should provision or terminate.</summary>
public sealed record Work(
    string ContractId,
    string OfferingId,
    string RenterPubkey,
    string SshKey,
    int Hours,
    string State,
    DateTimeOffset? PaidAt,
    DateTimeOffset? ProvisionedAt,
    DateTimeOffset? EndsAt,
    WorkLock? Lock,
    WorkInstance? Instance)
{
    public static Work Of(ContractEntity contract, ProvisioningLock? lease, InstanceRow? instance, DateTimeOffset now) => new(
        contract.PartitionKey,
        contract.OfferingId,
        contract.RenterKey,
        contract.SshKey,
        contract.Hours,
        contract.State,
        contract.PaidAt,
        instance?.RecordedAt,
        null,
        lease is not null && lease.IsLive(now) ? new WorkLock(lease.AgentKey, lease.ExpiresAt) : null,
        instance is null ? null : new WorkInstance(instance.ExternalId));
}

public sealed record WorkLock(string AgentPubkey, DateTimeOffset ExpiresAt);

public sealed record WorkInstance(string ExternalId);
