using System.Runtime.Serialization;
using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Identity.Delegations;

/// <summary>
/// One agent key's delegation, in table <c>AgentDelegations</c>: PartitionKey = the agent's key, so the check on
/// every agent request is one point read; a provider's list is a query on <see cref="ProviderKey"/>. A revoked
/// delegation stays, with <see cref="RevokedAt"/>, as the record of what the agent was allowed and until when.
/// </summary>
public sealed class AgentDelegation : ITableEntity
{
    public const string DelegationRowKey = "delegation";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = DelegationRowKey;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string ProviderKey { get; set; } = "";

    /// <summary>Permission names, comma-separated (provision,health_check,heartbeat,fetch_contracts).</summary>
    public string Permissions { get; set; } = "";

    public DateTimeOffset ExpiresAt { get; set; }

    public string Label { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    [IgnoreDataMember]
    public string AgentKey => PartitionKey;

    [IgnoreDataMember]
    public IReadOnlyList<AgentPermission> PermissionList =>
        Permissions.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(name => AgentPermissions.TryParse(name, out var permission) ? permission : (AgentPermission?)null)
            .OfType<AgentPermission>()
            .ToList();

    public bool Allows(AgentPermission permission, DateTimeOffset now) =>
        RevokedAt is null && now < ExpiresAt && PermissionList.Contains(permission);

    public DelegationView ToView() =>
        new(AgentKey, ProviderKey, PermissionList.Select(p => p.Name()).ToList(), ExpiresAt, Label, CreatedAt, RevokedAt);
}

public sealed record DelegationView(string AgentPublicKey, string ProviderPublicKey, IReadOnlyList<string> Permissions, DateTimeOffset ExpiresAt, string Label, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>The body of <c>POST /api/v1/providers/{pubkey}/agent-delegations</c>.</summary>
public sealed record DelegationRequest(string? AgentPublicKey, IReadOnlyList<string>? Permissions, DateTimeOffset? ExpiresAt, string? Label);
