using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Marketplace.Offerings;

/// <summary>The <c>Offerings</c> table. Writes are conditional: an add fails on an existing row, a replace on a changed ETag.</summary>
public sealed class OfferingStore(TableServiceClient tables)
{
    public const string TableName = "Offerings";

    private readonly TableClient table = tables.GetTableClient(TableName);
    private volatile bool tableExists;

    public TableClient Table => table;

    /// <summary>A new offering id: a version 7 Guid without dashes, so ids sort by creation time.</summary>
    public static string NewId() => Guid.CreateVersion7().ToString("N");

    public async Task<OfferingEntity?> FindAsync(string publicKeyHex, string id, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<OfferingEntity>(Providers.ProviderStore.PartitionKey(publicKeyHex), id.Trim(), cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>Adds the row; false when one with the same id exists (storage answered 409).</summary>
    public async Task<bool> TryAddAsync(OfferingEntity offering, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        try
        {
            var response = await table.AddEntityAsync(offering, cancellationToken);
            offering.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status409Conflict)
        {
            return false;
        }
    }

    /// <summary>Replaces the row if it is unchanged since read (If-Match its ETag); false when it changed (storage answered 412).</summary>
    public async Task<bool> TryReplaceAsync(OfferingEntity offering, CancellationToken cancellationToken)
    {
        try
        {
            var response = await table.UpdateEntityAsync(offering, offering.ETag, TableUpdateMode.Replace, cancellationToken);
            offering.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status412PreconditionFailed)
        {
            return false;
        }
    }

    /// <summary>One page of rows matching <paramref name="filter"/> (OData), and the storage continuation token of the next, if any.</summary>
    public async Task<(IReadOnlyList<OfferingEntity> Items, string? Next)> QueryPageAsync(string filter, int pageSize, string? continuation, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        await foreach (var page in table.QueryAsync<OfferingEntity>(filter, pageSize, cancellationToken: cancellationToken).AsPages(continuation, pageSize))
        {
            return (page.Values, page.ContinuationToken);
        }

        return ([], null);
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
