using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Marketplace.Accounts;

/// <summary>
/// The <c>Accounts</c> table, one partition per user key. Writes are conditional: an add fails on an existing
/// row, a replace on a changed ETag.
/// </summary>
public sealed class AccountStore(TableServiceClient tables)
{
    public const string TableName = "Accounts";

    private readonly TableClient table = tables.GetTableClient(TableName);
    private volatile bool tableExists;

    public TableClient Table => table;

    /// <summary>The key as stored: lower-case hex, as <see cref="Identity.SignedCaller.PublicKeyHex"/> gives it.</summary>
    public static string PartitionKey(string publicKeyHex) => publicKeyHex.Trim().ToLowerInvariant();

    public async Task<T?> FindAsync<T>(string publicKeyHex, string rowKey, CancellationToken cancellationToken)
        where T : class, ITableEntity
    {
        await EnsureTableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<T>(PartitionKey(publicKeyHex), rowKey, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>Adds the row; false when it already exists (storage answered 409).</summary>
    public async Task<bool> TryAddAsync(ITableEntity entity, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        try
        {
            var response = await table.AddEntityAsync(entity, cancellationToken);
            entity.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status409Conflict)
        {
            return false;
        }
    }

    /// <summary>Replaces the row if it is unchanged since read (If-Match its ETag); false when it changed (storage answered 412).</summary>
    public async Task<bool> TryReplaceAsync(ITableEntity entity, CancellationToken cancellationToken)
    {
        try
        {
            var response = await table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
            entity.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status404NotFound)
        {
            return false;
        }
    }

    /// <summary>The user's SSH keys, in RowKey order.</summary>
    public async Task<List<SshKeyEntity>> ListSshKeysAsync(string publicKeyHex, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var partition = PartitionKey(publicKeyHex);
        // '.' follows '-', so this range is exactly the RowKeys that start with "ssh-".
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {SshKeyEntity.RowKeyPrefix} and RowKey lt {"ssh."}");
        var keys = new List<SshKeyEntity>();
        await foreach (var key in table.QueryAsync<SshKeyEntity>(filter, cancellationToken: cancellationToken))
        {
            keys.Add(key);
        }

        return keys;
    }

    /// <summary>Deletes the row; false when there was none (storage answered 404).</summary>
    public async Task<bool> TryDeleteAsync(string publicKeyHex, string rowKey, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        // The client does not throw on a missing entity; it returns storage's 404 as the response.
        var response = await table.DeleteEntityAsync(PartitionKey(publicKeyHex), rowKey, ETag.All, cancellationToken);
        return response.Status != StatusCodes.Status404NotFound;
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
