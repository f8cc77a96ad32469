using Azure;
using Azure.Data.Tables;
using DecentCloud.Functions.Platform;

namespace DecentCloud.Functions.Ledger;

/// <summary>
/// The ledger's own table, <c>Payouts</c>: one partition per provider (its payouts, their ledger transactions and its
/// payout totals per currency), and the <c>_runs</c> partition with the marks of the timers (the last period released,
/// the last reconciliation). Table transactions here cover one provider's partition.
/// </summary>
public sealed class LedgerStore(TableServiceClient tables)
{
    public const string TableName = "Payouts";
    public const string RunsPartition = "_runs";

    private readonly TableClient table = tables.GetTableClient(TableName);
    private volatile bool tableExists;

    public TableClient Table => table;

    public async Task<T?> FindAsync<T>(string partitionKey, string rowKey, CancellationToken cancellationToken)
        where T : class, ITableEntity
    {
        await EnsureTableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<T>(partitionKey, rowKey, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>The rows of one partition whose RowKey starts with <paramref name="prefix"/>, in RowKey order.</summary>
    public async Task<List<T>> ListAsync<T>(string partitionKey, string prefix, CancellationToken cancellationToken)
        where T : class, ITableEntity, new()
    {
        await EnsureTableAsync(cancellationToken);
        var end = prefix[..^1] + (char)(prefix[^1] + 1);
        var rows = new List<T>();
        await foreach (var row in table.QueryAsync<T>(TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey} and RowKey ge {prefix} and RowKey lt {end}"), cancellationToken: cancellationToken))
        {
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>The rows of every partition that <paramref name="filter"/> selects.</summary>
    public async IAsyncEnumerable<T> QueryAsync<T>(string filter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        where T : class, ITableEntity, new()
    {
        await EnsureTableAsync(cancellationToken);
        await foreach (var row in table.QueryAsync<T>(filter, cancellationToken: cancellationToken))
        {
            yield return row;
        }
    }

    /// <summary>
    /// Writes every row in one transaction of the partition: a row with an ETag is replaced If-Match it, one without is
    /// added. False when any precondition failed (412, 409): then nothing was written.
    /// </summary>
    public async Task<bool> TryWriteAllAsync(IReadOnlyList<ITableEntity> rows, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        return await TableTransactions.TryWriteAllAsync(table, rows, cancellationToken);
    }

    /// <summary>Adds the row; false when it exists already (storage answered 409).</summary>
    public async Task<bool> TryAddAsync(ITableEntity row, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        try
        {
            var response = await table.AddEntityAsync(row, cancellationToken);
            row.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status409Conflict)
        {
            return false;
        }
    }

    /// <summary>Writes the row whatever is there (a report that the last run replaces).</summary>
    public async Task UpsertAsync(ITableEntity row, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        await table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>Deletes the row If-Match its ETag; false when it changed since read or is gone (412, 404).</summary>
    public async Task<bool> TryDeleteAsync(ITableEntity row, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        try
        {
            await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status404NotFound)
        {
            return false;
        }
    }

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (!tableExists)
        {
            await table.CreateIfNotExistsAsync(cancellationToken);
            tableExists = true;
        }
    }
}

/// <summary>A timer's mark in the <c>_runs</c> partition: what its last complete run covered.</summary>
public sealed class RunMarkEntity : ITableEntity
{
    public string PartitionKey { get; set; } = LedgerStore.RunsPartition;

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    /// <summary>The period (its end) the last complete run covered.</summary>
    public DateTimeOffset CompletedThrough { get; set; }

    public DateTimeOffset CompletedAt { get; set; }
}
