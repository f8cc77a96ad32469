using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using DecentCloud.Functions.Billing;
using DecentCloud.Functions.Marketplace.Contracts;

namespace DecentCloud.Functions.Provisioning;

/// <summary>
/// What agents report about a contract, in the contract's own partition of the <c>Contracts</c> table (the lock, the
/// progress reports, the instance, the termination), and the provider's index of instances (<c>ProviderInstances</c>).
/// The contract row itself is the orchestration's: nothing here changes a contract's state.
/// </summary>
public sealed class ProvisioningStore(ContractStore contracts, ContractRows rows, TableServiceClient tables)
{
    public const string IndexTableName = "ProviderInstances";

    private readonly TableClient index = tables.GetTableClient(IndexTableName);
    private volatile bool indexExists;

    public TableClient IndexTable => index;

    public Task<ContractEntity?> ContractAsync(string contractId, CancellationToken cancellationToken) =>
        contracts.FindAsync(contractId, cancellationToken);

    public Task<ProvisioningLock?> LockAsync(string contractId, CancellationToken cancellationToken) =>
        rows.FindAsync<ProvisioningLock>(contractId, ProvisioningLock.LockRowKey, cancellationToken);

    public Task<InstanceRow?> InstanceAsync(string contractId, CancellationToken cancellationToken) =>
        rows.FindAsync<InstanceRow>(contractId, InstanceRow.InstanceRowKey, cancellationToken);

    public Task<TerminatedRow?> TerminatedAsync(string contractId, CancellationToken cancellationToken) =>
        rows.FindAsync<TerminatedRow>(contractId, TerminatedRow.TerminatedRowKey, cancellationToken);

    public Task<TerminationMark?> TerminationMarkAsync(string contractId, CancellationToken cancellationToken) =>
        rows.FindAsync<TerminationMark>(contractId, TerminationMark.MarkRowKey, cancellationToken);

    /// <summary>The agents' progress reports of the contract, newest first.</summary>
    public Task<List<ProvisioningReportRow>> ReportsAsync(string contractId, CancellationToken cancellationToken) =>
        rows.ListAsync<ProvisioningReportRow>(contractId, ProvisioningReportRow.RowKeyPrefix, cancellationToken);

    /// <summary>
    /// Takes or renews the contract's lock for <paramref name="agentKey"/> until <paramref name="expiresAt"/>. Null when
    /// another agent holds a live lease, or won a race for it (the add or the replace failed on the row's ETag).
    /// </summary>
    public async Task<ProvisioningLock?> TryLockAsync(string contractId, string agentKey, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        var current = await LockAsync(contractId, cancellationToken);
        if (current is not null && current.HeldByAnotherThan(agentKey, now))
        {
            return null;
        }

        var renewing = current is not null && current.AgentKey == agentKey && current.IsLive(now);
        var lease = new ProvisioningLock
        {
            PartitionKey = contractId,
            AgentKey = agentKey,
            AcquiredAt = renewing ? current!.AcquiredAt : now,
            ExpiresAt = expiresAt,
            ETag = current?.ETag ?? default,
        };
        var written = current is null
            ? await rows.TryAddAsync(lease, cancellationToken)
            : await rows.TryReplaceAsync(lease, cancellationToken);
        return written ? lease : null;
    }

    /// <summary>Ends the holder's lease now (If-Match its ETag); false when it changed since read.</summary>
    public Task<bool> TryReleaseAsync(ProvisioningLock lease, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lease.ExpiresAt = now;
        return rows.TryReplaceAsync(lease, cancellationToken);
    }

    /// <summary>
    /// Records a progress report, and for <c>provisioned</c> the instance, in one transaction of the contract's partition
    /// with the caller's lease as its condition (replaced unchanged, If-Match its ETag): a lease taken over meanwhile
    /// writes nothing. False when any condition failed.
    /// </summary>
    public async Task<bool> TryRecordReportAsync(ProvisioningLock lease, ProvisioningReportRow report, InstanceRow? instance, string providerKey, CancellationToken cancellationToken)
    {
        if (instance is not null)
        {
            var existing = await InstanceAsync(instance.PartitionKey, cancellationToken);
            instance.ETag = existing?.ETag ?? default;

            // The index first: an index row without its instance is ignored by every reader, an instance without its index row would never be probed or terminated.
            await UpsertIndexAsync(new InstanceIndexRow { PartitionKey = providerKey, RowKey = instance.PartitionKey, ExternalId = instance.ExternalId, RecordedAt = instance.RecordedAt }, cancellationToken);
        }

        List<ITableEntity> batch = [lease, report];
        if (instance is not null)
        {
            batch.Add(instance);
        }

        return await rows.TryWriteAllAsync(batch, cancellationToken);
    }

    /// <summary>Records the agent's termination report once (a second one keeps the first) and marks the index row terminated.</summary>
    public async Task<TerminatedRow> RecordTerminatedAsync(TerminatedRow terminated, string providerKey, CancellationToken cancellationToken)
    {
        var kept = await rows.TryAddAsync(terminated, cancellationToken)
            ? terminated
            : await TerminatedAsync(terminated.PartitionKey, cancellationToken) ?? terminated;
        if (await IndexRowAsync(providerKey, terminated.PartitionKey, cancellationToken) is { TerminatedAt: null } indexed)
        {
            indexed.TerminatedAt = kept.At;
            indexed.Terminated = true;
            await EnsureIndexAsync(cancellationToken);
            await index.UpdateEntityAsync(indexed, ETag.All, TableUpdateMode.Replace, cancellationToken);
        }

        return kept;
    }

    /// <summary>
    /// For the contract's orchestration: asks the provider's agent to terminate the contract's instance (the pending-work
    /// list shows it under <c>terminate</c> until the agent reports it gone). Marking twice keeps the first mark.
    /// </summary>
    public async Task MarkForTerminationAsync(string contractId, string reason, DateTimeOffset now, CancellationToken cancellationToken) =>
        await rows.TryAddAsync(new TerminationMark { PartitionKey = contractId, Reason = reason, At = now }, cancellationToken);

    /// <summary>The contracts of a provider in the given states: a filtered scan, fine at today's volume (as the contract timeouts).</summary>
    public async Task<List<ContractEntity>> ContractsOfProviderAsync(string providerKey, IReadOnlyList<ContractState> states, CancellationToken cancellationToken)
    {
        var stateFilter = string.Join(" or ", states.Select(s => TableClient.CreateQueryFilter($"State eq {s.Name()}")));
        var filter = TableClient.CreateQueryFilter($"RowKey eq {ContractEntity.ContractRowKey} and ProviderKey eq {providerKey}") + $" and ({stateFilter})";
        var found = new List<ContractEntity>();
        try
        {
            await foreach (var contract in contracts.Table.QueryAsync<ContractEntity>(filter, cancellationToken: cancellationToken))
            {
                found.Add(contract);
            }
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status404NotFound && ex.ErrorCode == "TableNotFound")
        {
            // No contract was ever written on this storage account.
        }

        return found;
    }

    public async Task<InstanceIndexRow?> IndexRowAsync(string providerKey, string contractId, CancellationToken cancellationToken)
    {
        await EnsureIndexAsync(cancellationToken);
        var row = await index.GetEntityIfExistsAsync<InstanceIndexRow>(providerKey, contractId, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>Every instance a provider ever reported, terminated ones included.</summary>
    public async Task<List<InstanceIndexRow>> InstancesOfProviderAsync(string providerKey, CancellationToken cancellationToken)
    {
        await EnsureIndexAsync(cancellationToken);
        var found = new List<InstanceIndexRow>();
        await foreach (var row in index.QueryAsync<InstanceIndexRow>(TableClient.CreateQueryFilter($"PartitionKey eq {providerKey}"), cancellationToken: cancellationToken))
        {
            found.Add(row);
        }

        return found;
    }

    /// <summary>The instances of every provider not reported terminated: what the platform probes.</summary>
    public async IAsyncEnumerable<InstanceIndexRow> RunningInstancesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureIndexAsync(cancellationToken);
        await foreach (var row in index.QueryAsync<InstanceIndexRow>(TableClient.CreateQueryFilter($"Terminated eq {false}"), cancellationToken: cancellationToken))
        {
            yield return row;
        }
    }

    private async Task UpsertIndexAsync(InstanceIndexRow row, CancellationToken cancellationToken)
    {
        await EnsureIndexAsync(cancellationToken);
        await index.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
    }

    private async Task EnsureIndexAsync(CancellationToken cancellationToken)
    {
        if (!indexExists)
        {
            await index.CreateIfNotExistsAsync(cancellationToken);
            indexExists = true;
        }
    }
}
