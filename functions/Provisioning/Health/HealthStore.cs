using Azure.Data.Tables;

namespace DecentCloud.Functions.Provisioning.Health;

/// <summary>The tables of health and uptime: agents' raw reports (<c>ContractHealth</c>), the platform's probes (<c>ContractProbes</c>), agents' heartbeats (<c>AgentHeartbeats</c>).</summary>
public sealed class HealthStore(TableServiceClient tables)
{
    public const string HealthTableName = "ContractHealth";
    public const string ProbesTableName = "ContractProbes";
    public const string HeartbeatsTableName = "AgentHeartbeats";

    private readonly EnsuredTable health = new(tables.GetTableClient(HealthTableName));
    private readonly EnsuredTable probes = new(tables.GetTableClient(ProbesTableName));
    private readonly EnsuredTable heartbeats = new(tables.GetTableClient(HeartbeatsTableName));

    public TableClient HealthTable => health.Client;

    public TableClient ProbesTable => probes.Client;

    public TableClient HeartbeatsTable => heartbeats.Client;

    public async Task AddReportAsync(HealthReportRow row, CancellationToken cancellationToken) =>
        await (await health.ReadyAsync(cancellationToken)).AddEntityAsync(row, cancellationToken);

    public async Task AddProbeAsync(ProbeRow row, CancellationToken cancellationToken) =>
        await (await probes.ReadyAsync(cancellationToken)).AddEntityAsync(row, cancellationToken);

    public async Task SaveHeartbeatAsync(HeartbeatRow row, CancellationToken cancellationToken) =>
        await (await heartbeats.ReadyAsync(cancellationToken)).UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);

    public async Task<List<HeartbeatRow>> HeartbeatsOfProviderAsync(string providerKey, CancellationToken cancellationToken)
    {
        var table = await heartbeats.ReadyAsync(cancellationToken);
        var found = new List<HeartbeatRow>();
        await foreach (var row in table.QueryAsync<HeartbeatRow>(TableClient.CreateQueryFilter($"PartitionKey eq {providerKey}"), cancellationToken: cancellationToken))
        {
            found.Add(row);
        }

        return found;
    }

    /// <summary>A contract's reports that arrived on the days from <paramref name="from"/> to <paramref name="to"/> (UTC): one range query over its day partitions.</summary>
    public async Task<List<HealthReportRow>> ReportsAsync(string contractId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        await DaysAsync<HealthReportRow>(await health.ReadyAsync(cancellationToken), contractId, from, to, cancellationToken);

    /// <summary>A contract's probes of the days from <paramref name="from"/> to <paramref name="to"/> (UTC).</summary>
    public async Task<List<ProbeRow>> ProbesAsync(string contractId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        await DaysAsync<ProbeRow>(await probes.ReadyAsync(cancellationToken), contractId, from, to, cancellationToken);

    private static async Task<List<T>> DaysAsync<T>(TableClient table, string contractId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
        where T : class, ITableEntity, new()
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey ge {ProvisioningKeys.Day(contractId, from)} and PartitionKey le {ProvisioningKeys.Day(contractId, to)}");
        var found = new List<T>();
        await foreach (var row in table.QueryAsync<T>(filter, cancellationToken: cancellationToken))
        {
            found.Add(row);
        }

        return found;
    }

    /// <summary>A table created on first use; a failed creation is not remembered, so the next call tries again.</summary>
    private sealed class EnsuredTable(TableClient client)
    {
        private volatile bool exists;

        public TableClient Client => client;

        public async Task<TableClient> ReadyAsync(CancellationToken cancellationToken)
        {
            if (!exists)
            {
                await client.CreateIfNotExistsAsync(cancellationToken);
                exists = true;
            }

            return client;
        }
    }
}
