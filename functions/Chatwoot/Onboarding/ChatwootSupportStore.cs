using Azure;
using Azure.Data.Tables;
using DecentCloud.Functions.Marketplace.Providers;

namespace DecentCloud.Functions.Chatwoot.Onboarding;

/// <summary>
/// A provider's Chatwoot resources, in the provider's partition of the <c>Providers</c> table (RowKey
/// <c>chatwoot-support</c>). Each id is merged in as soon as Chatwoot has answered with it, so a crash right after
/// leaves at most that one id to be found again by look-up.
/// </summary>
public sealed class ChatwootSupportEntity : ITableEntity
{
    public const string SupportRowKey = "chatwoot-support";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = SupportRowKey;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public long? InboxId { get; set; }

    public string? InboxName { get; set; }

    public long? TeamId { get; set; }

    public string? TeamName { get; set; }

    public long? PortalId { get; set; }

    public string? PortalSlug { get; set; }

    public string? PortalName { get; set; }

    public long? CategoryId { get; set; }

    public long? RoutingRuleId { get; set; }

    public SupportResourcesView ToView() => new(InboxId, InboxName, TeamId, TeamName, PortalId, PortalSlug, PortalName, CategoryId, RoutingRuleId);
}

/// <summary>An agent the provider added (RowKey <c>chatwoot-agent-{user id}</c>).</summary>
public sealed class ChatwootAgentEntity : ITableEntity
{
    public const string RowKeyPrefix = "chatwoot-agent-";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public long UserId { get; set; }

    public string Name { get; set; } = "";

    public string Email { get; set; } = "";

    public DateTimeOffset AddedAt { get; set; }

    public SupportAgentView ToView() => new(UserId, Name, Email, AddedAt);
}

public sealed record SupportResourcesView(long? InboxId, string? InboxName, long? TeamId, string? TeamName, long? PortalId, string? PortalSlug, string? PortalName, long? CategoryId, long? RoutingRuleId);

public sealed record SupportAgentView(long UserId, string Name, string Email, DateTimeOffset AddedAt);

public sealed class ChatwootSupportStore(ProviderStore providers)
{
    private volatile bool tableExists;

    private TableClient Table => providers.Table;

    /// <summary>The Providers table may not exist yet when a webhook asks (no provider has onboarded on this storage).</summary>
    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (!tableExists)
        {
            await Table.CreateIfNotExistsAsync(cancellationToken);
            tableExists = true;
        }
    }

    public async Task<ChatwootSupportEntity?> FindAsync(string providerKey, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var row = await Table.GetEntityIfExistsAsync<ChatwootSupportEntity>(ProviderStore.PartitionKey(providerKey), ChatwootSupportEntity.SupportRowKey, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>Merges the given ids into the provider's row (creating it); ids not given stay as they are.</summary>
    public async Task RecordAsync(string providerKey, Action<TableEntity> set, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var row = new TableEntity(ProviderStore.PartitionKey(providerKey), ChatwootSupportEntity.SupportRowKey);
        set(row);
        await Table.UpsertEntityAsync(row, TableUpdateMode.Merge, cancellationToken);
    }

    /// <summary>The provider whose resources include team <paramref name="teamId"/>, if any (team names are unique per Chatwoot account).</summary>
    public async Task<string?> OwnerOfTeamAsync(long teamId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        // A scan over the support rows: onboarding is rare, and this runs only when a team name is taken.
        var filter = TableClient.CreateQueryFilter($"RowKey eq {ChatwootSupportEntity.SupportRowKey} and TeamId eq {teamId}");
        await foreach (var row in Table.QueryAsync<ChatwootSupportEntity>(filter, cancellationToken: cancellationToken))
        {
            return row.PartitionKey;
        }

        return null;
    }

    public async Task<List<ChatwootAgentEntity>> AgentsAsync(string providerKey, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var partition = ProviderStore.PartitionKey(providerKey);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {ChatwootAgentEntity.RowKeyPrefix} and RowKey lt {"chatwoot-agent."}");
        var agents = new List<ChatwootAgentEntity>();
        await foreach (var agent in Table.QueryAsync<ChatwootAgentEntity>(filter, cancellationToken: cancellationToken))
        {
            agents.Add(agent);
        }

        return agents;
    }

    public async Task UpsertAgentAsync(ChatwootAgentEntity agent, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        await Table.UpsertEntityAsync(agent, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<bool> DeleteAgentAsync(string providerKey, long userId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var response = await Table.DeleteEntityAsync(ProviderStore.PartitionKey(providerKey), ChatwootAgentEntity.RowKeyPrefix + userId, ETag.All, cancellationToken);
        return response.Status != StatusCodes.Status404NotFound;
    }
}
