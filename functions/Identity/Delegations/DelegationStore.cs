using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Identity.Delegations;

public sealed class DelegationStore(TableServiceClient tables)
{
    public const string TableName = "AgentDelegations";

    private readonly TableClient table = tables.GetTableClient(TableName);
    private volatile bool ready;

    public TableClient Table => table;

    public async Task<AgentDelegation?> FindAsync(string agentKey, CancellationToken cancellationToken)
    {
        await EnsureAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<AgentDelegation>(agentKey, AgentDelegation.DelegationRowKey, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    public async Task<IReadOnlyList<AgentDelegation>> ForProviderAsync(string providerKey, CancellationToken cancellationToken)
    {
        await EnsureAsync(cancellationToken);
        var rows = new List<AgentDelegation>();
        await foreach (var row in table.QueryAsync<AgentDelegation>(TableClient.CreateQueryFilter($"ProviderKey eq {providerKey}"), cancellationToken: cancellationToken))
        {
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>Writes a new delegation, or replaces the one read (its ETag must still match); false when someone else changed it first.</summary>
    public async Task<bool> SaveAsync(AgentDelegation delegation, AgentDelegation? read, CancellationToken cancellationToken)
    {
        await EnsureAsync(cancellationToken);
        try
        {
            if (read is null)
            {
                await table.AddEntityAsync(delegation, cancellationToken);
            }
            else
            {
                await table.UpdateEntityAsync(delegation, read.ETag, TableUpdateMode.Replace, cancellationToken);
            }

            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return false;
        }
    }

    private async Task EnsureAsync(CancellationToken cancellationToken)
    {
        if (!ready)
        {
            await table.CreateIfNotExistsAsync(cancellationToken);
            ready = true;
        }
    }
}
