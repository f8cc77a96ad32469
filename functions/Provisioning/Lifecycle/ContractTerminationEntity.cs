using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Provisioning.Lifecycle;

/// <summary>
/// The contract's termination, in its partition of the <c>Contracts</c> table (RowKey <c>termination</c>): written by the
/// orchestration when the contract ended while an instance may run (it reached provisioning), so the pending-work
/// endpoint lists it for the provider's agents to terminate until <see cref="TerminatedAt"/> is set
/// (docs/workflows.md, "Contract lifecycle"). A scan for <c>RowKey eq 'termination' and ProviderKey eq … and
/// TerminatedAt eq null</c> finds a provider's open terminations.
/// </summary>
public sealed class ContractTerminationEntity : ITableEntity
{
    public const string TerminationRowKey = "termination";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = TerminationRowKey;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string ProviderKey { get; set; } = "";

    /// <summary>The contract's state when termination was asked for: expired, cancelled, rejected or provisioningfailed.</summary>
    public string Reason { get; set; } = "";

    public DateTimeOffset RequestedAt { get; set; }

    /// <summary>When the orchestration received the agent's termination report (the <c>Terminated</c> event).</summary>
    public DateTimeOffset? TerminatedAt { get; set; }

    /// <summary>The agent's message with the report, at most <see cref="MaxMessageLength"/> characters.</summary>
    public string? TerminatedMessage { get; set; }

    public const int MaxMessageLength = 1000;
}
