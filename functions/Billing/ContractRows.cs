using Azure;
using Azure.Data.Tables;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Platform;

namespace DecentCloud.Functions.Billing;

/// <summary>
/// Billing's rows in a contract's own partition of the <c>Contracts</c> table (checkout, payments, invoices, credit
/// notes, disputes), beside the contract row, so a payment and the contract's "paid" flag change in one transaction.
/// </summary>
public sealed class ContractRows(ContractStore contracts)
{
    private volatile bool tableExists;

    public TableClient Table => contracts.Table;

    public Task<ContractEntity?> ContractAsync(string contractId, CancellationToken cancellationToken) =>
        contracts.FindAsync(contractId, cancellationToken);

    /// <summary>The contract's history rows (its moves), newest first.</summary>
    public Task<List<ContractMoveEntity>> MovesAsync(string contractId, CancellationToken cancellationToken) =>
        contracts.MovesAsync(contractId, cancellationToken);

    public async Task<T?> FindAsync<T>(string contractId, string rowKey, CancellationToken cancellationToken)
        where T : class, ITableEntity
    {
        await EnsureTableAsync(cancellationToken);
        var row = await Table.GetEntityIfExistsAsync<T>(contractId, rowKey, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>The rows whose RowKey starts with <paramref name="prefix"/>, in RowKey order.</summary>
    public async Task<List<T>> ListAsync<T>(string contractId, string prefix, CancellationToken cancellationToken)
        where T : class, ITableEntity, new()
    {
        await EnsureTableAsync(cancellationToken);
        var end = PrefixEnd(prefix);
        var rows = new List<T>();
        await foreach (var row in Table.QueryAsync<T>(TableClient.CreateQueryFilter($"PartitionKey eq {contractId} and RowKey ge {prefix} and RowKey lt {end}"), cancellationToken: cancellationToken))
        {
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>The rows whose RowKey starts with <paramref name="prefix"/> across every contract (such as the refunds owed): a scan, for sweeps and admin lists.</summary>
    public async IAsyncEnumerable<T> AcrossContractsAsync<T>(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        where T : class, ITableEntity, new()
    {
        await EnsureTableAsync(cancellationToken);
        await foreach (var row in Table.QueryAsync<T>(TableClient.CreateQueryFilter($"RowKey ge {prefix} and RowKey lt {PrefixEnd(prefix)}"), cancellationToken: cancellationToken))
        {
            yield return row;
        }
    }

    /// <summary>The rows of every partition that <paramref name="filter"/> selects: a scan, for sweeps (such as the paid contracts).</summary>
    public async IAsyncEnumerable<T> QueryAsync<T>(string filter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        where T : class, ITableEntity, new()
    {
        await EnsureTableAsync(cancellationToken);
        await foreach (var row in Table.QueryAsync<T>(filter, cancellationToken: cancellationToken))
        {
            yield return row;
        }
    }

    /// <summary>The character after the prefix's last one bounds the range: exactly the RowKeys that start with it.</summary>
    private static string PrefixEnd(string prefix) => prefix[..^1] + (char)(prefix[^1] + 1);

    /// <summary>Adds the row; false when it exists already (storage answered 409).</summary>
    public async Task<bool> TryAddAsync(ITableEntity row, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        try
        {
            var response = await Table.AddEntityAsync(row, cancellationToken);
            row.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status409Conflict)
        {
            return false;
        }
    }

    /// <summary>Replaces the row If-Match its ETag; false when it changed since read or is gone (412, 404).</summary>
    public async Task<bool> TryReplaceAsync(ITableEntity row, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        try
        {
            var response = await Table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
            row.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status404NotFound)
        {
            return false;
        }
    }

    /// <summary>
    /// Writes every row in one transaction of the partition: a row with an ETag is replaced If-Match it, one without
    /// is added. False when any precondition failed (412, 409): then nothing was written.
    /// </summary>
    public async Task<bool> TryWriteAllAsync(IReadOnlyList<ITableEntity> rows, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        return await TableTransactions.TryWriteAllAsync(Table, rows, cancellationToken);
    }

    /// <summary>A webhook or a timer may come before the first contract made the table.</summary>
    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (!tableExists)
        {
            await Table.CreateIfNotExistsAsync(cancellationToken);
            tableExists = true;
        }
    }
}
