using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Marketplace.Providers;

/// <summary>The <c>Providers</c> table. Writes are conditional: an add fails on an existing row, a replace on a changed ETag.</summary>
public sealed class ProviderStore(TableServiceClient tables)
{
    public const string TableName = "Providers";

    private readonly TableClient table = tables.GetTableClient(TableName);
    private volatile bool tableExists;

    public TableClient Table => table;

    /// <summary>The key as stored: lower-case hex, as <see cref="Identity.SignedCaller.PublicKeyHex"/> gives it.</summary>
    public static string PartitionKey(string publicKeyHex) => publicKeyHex.Trim().ToLowerInvariant();

    public async Task<ProviderEntity?> FindAsync(string publicKeyHex, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<ProviderEntity>(PartitionKey(publicKeyHex), ProviderEntity.ProfileRowKey, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>Adds the row; false when the provider already has one (storage answered 409).</summary>
    public async Task<bool> TryAddAsync(ProviderEntity provider, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        try
        {
            var response = await table.AddEntityAsync(provider, cancellationToken);
            provider.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status409Conflict)
        {
            return false;
        }
    }

    /// <summary>Replaces the row if it is unchanged since read (If-Match its ETag); false when it changed (storage answered 412).</summary>
    public async Task<bool> TryReplaceAsync(ProviderEntity provider, CancellationToken cancellationToken)
    {
        try
        {
            var response = await table.UpdateEntityAsync(provider, provider.ETag, TableUpdateMode.Replace, cancellationToken);
            provider.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status412PreconditionFailed)
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
