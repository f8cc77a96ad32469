using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Provisioning.Health;

/// <summary>
/// One health report of an agent, kept raw in table <c>ContractHealth</c> (PartitionKey <c>{contractId}:{yyyyMMdd}</c> of
/// the day it arrived, RowKey newest first): the body exactly as signed and the signing headers, so anyone can check
/// the agent's signature again (over <see cref="Method"/>, <see cref="Target"/> and <see cref="Body"/>), beside the
/// fields the figures are computed from.
/// </summary>
public sealed class HealthReportRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string ContractId { get; set; } = "";

    public string ProviderKey { get; set; } = "";

    public string AgentKey { get; set; } = "";

    public string Status { get; set; } = "";

    public DateTimeOffset CheckedAt { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }

    public int? LatencyMs { get; set; }

    /// <summary>The report's <c>details</c> as JSON text, when it had any.</summary>
    public string? Details { get; set; }

    public string Body { get; set; } = "";

    public string Method { get; set; } = "";

    public string Target { get; set; } = "";

    public string XPublicKey { get; set; } = "";

    public string XSignature { get; set; } = "";

    public string XTimestamp { get; set; } = "";

    public string XNonce { get; set; } = "";

    public string XAgentPubkey { get; set; } = "";
}

/// <summary>
/// One probe of the platform's own (a TCP connect to the instance's SSH port, or the refusal to make it), in table <c>ContractProbes</c>, keyed as
/// <see cref="HealthReportRow"/>: PartitionKey <c>{contractId}:{yyyyMMdd}</c>, RowKey newest first.
/// </summary>
public sealed class ProbeRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string ContractId { get; set; } = "";

    public string ProviderKey { get; set; } = "";

    /// <summary><c>host:port</c> as probed.</summary>
    public string Target { get; set; } = "";

    public bool Up { get; set; }

    public int LatencyMs { get; set; }

    /// <summary>Why it counted as down: <c>timeout</c>, a socket error name (<c>ConnectionRefused</c>, <c>HostNotFound</c>...), or <c>noAddress</c>.</summary>
    public string? Error { get; set; }

    /// <summary>
    /// Why the platform did not connect at all: the address, or one the host name resolved to, is not public
    /// (<see cref="PublicAddresses"/>). A refused probe is neither up nor down: uptime counts it apart.
    /// </summary>
    public string? Refused { get; set; }

    public DateTimeOffset At { get; set; }
}

/// <summary>
/// An agent's last heartbeat, in table <c>AgentHeartbeats</c>: PartitionKey the provider's key, RowKey the agent's key,
/// replaced by each heartbeat.
/// </summary>
public sealed class HeartbeatRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string Version { get; set; } = "";

    public string Provisioner { get; set; } = "";

    /// <summary>Comma-separated.</summary>
    public string Capabilities { get; set; } = "";

    public int ActiveContracts { get; set; }

    /// <summary>The heartbeat's <c>resources</c> object as JSON text, when it had one.</summary>
    public string? Resources { get; set; }

    public DateTimeOffset LastHeartbeatAt { get; set; }

    public string AgentKey => RowKey;
}
