using System.Globalization;
using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Provisioning;

/// <summary>
/// A contract's lock: the lease one agent holds while it provisions the contract, in the contract's partition of the
/// <c>Contracts</c> table (RowKey <c>provisioning-lock</c>). Taken and renewed only under the row's ETag, so of two agents
/// racing for it exactly one wins. A released lease stays as a row whose <see cref="ExpiresAt"/> has passed.
/// </summary>
public sealed class ProvisioningLock : ITableEntity
{
    public const string LockRowKey = "provisioning-lock";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = LockRowKey;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string AgentKey { get; set; } = "";

    public DateTimeOffset AcquiredAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public bool IsLive(DateTimeOffset now) => now < ExpiresAt;

    public bool HeldByAnotherThan(string agentKey, DateTimeOffset now) => IsLive(now) && AgentKey != agentKey;
}

/// <summary>One progress report of an agent (provisioning, provisioned, failed), RowKey <c>provisioning-report-{inverted ticks}-{n}</c>, newest first.</summary>
public sealed class ProvisioningReportRow : ITableEntity
{
    public const string RowKeyPrefix = "provisioning-report-";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string Status { get; set; } = "";

    public string? Message { get; set; }

    public string AgentKey { get; set; } = "";

    public DateTimeOffset At { get; set; }

    public static string RowKeyFor(DateTimeOffset at) =>
        RowKeyPrefix + ProvisioningKeys.Inverted(at) + "-" + Guid.NewGuid().ToString("N")[..8];
}

/// <summary>
/// The instance an agent provisioned for the contract (RowKey <c>provisioning-instance</c>): where it is and its
/// credentials sealed to the renter's key. The platform never holds the credentials in the clear: the request schema
/// refuses any other field, and the sealed blob can only be opened with the renter's secret key.
/// </summary>
public sealed class InstanceRow : ITableEntity
{
    public const string InstanceRowKey = "provisioning-instance";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = InstanceRowKey;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string ExternalId { get; set; } = "";

    public string? Ipv4 { get; set; }

    public string? Ipv6 { get; set; }

    public string? Hostname { get; set; }

    public int SshPort { get; set; }

    public string? SshUser { get; set; }

    public int SealedVersion { get; set; }

    public string SealedEphemeralPubkey { get; set; } = "";

    public string SealedNonce { get; set; } = "";

    public string SealedCiphertext { get; set; } = "";

    public string SealedAad { get; set; } = "";

    public string AgentKey { get; set; } = "";

    public DateTimeOffset RecordedAt { get; set; }

    /// <summary>Where the platform's probe connects: the IPv4 address, else the host name, else the IPv6 address.</summary>
    public string ProbeHost => Ipv4 ?? Hostname ?? Ipv6 ?? "";
}

/// <summary>The agent's report that the contract's instance is gone (RowKey <c>provisioning-terminated</c>); the first report is kept.</summary>
public sealed class TerminatedRow : ITableEntity
{
    public const string TerminatedRowKey = "provisioning-terminated";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = TerminatedRowKey;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string AgentKey { get; set; } = "";

    public string? Message { get; set; }

    public DateTimeOffset At { get; set; }
}

/// <summary>
/// The contract's orchestration asks the provider's agent to terminate the instance (RowKey <c>provisioning-terminate</c>):
/// written when the term ends or the contract is cancelled; the pending-work list shows the contract in <c>terminate</c>
/// until the agent reports it terminated.
/// </summary>
public sealed class TerminationMark : ITableEntity
{
    public const string MarkRowKey = "provisioning-terminate";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = MarkRowKey;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string Reason { get; set; } = "";

    public DateTimeOffset At { get; set; }
}

/// <summary>
/// A provider's instances, in table <c>ProviderInstances</c> (PartitionKey the provider's key, RowKey the contract id):
/// the index the pending-work list, reconcile and the probe timer read, so none of them scans every contract.
/// Written before the instance row; an index row whose contract has no instance row is ignored.
/// </summary>
public sealed class InstanceIndexRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string ExternalId { get; set; } = "";

    public DateTimeOffset RecordedAt { get; set; }

    public DateTimeOffset? TerminatedAt { get; set; }

    /// <summary>Beside <see cref="TerminatedAt"/>, since a table query cannot ask for a missing property.</summary>
    public bool Terminated { get; set; }

    public string ContractId => RowKey;

    public string ProviderKey => PartitionKey;
}

internal static class ProvisioningKeys
{
    /// <summary>Ticks counted down from the largest date, 19 digits: RowKeys that sort newest first.</summary>
    public static string Inverted(DateTimeOffset at) =>
        (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);

    /// <summary>The PartitionKey of a contract's day in <c>ContractHealth</c> and <c>ContractProbes</c>: <c>{contractId}:{yyyyMMdd}</c>.</summary>
    public static string Day(string contractId, DateTimeOffset at) =>
        contractId + ":" + at.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
}
