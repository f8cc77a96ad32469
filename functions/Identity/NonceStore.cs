using Azure;
using Azure.Data.Tables;
using DecentCloud.Shared.Signing;

namespace DecentCloud.Functions.Identity;

/// <summary>
/// The nonces of signed requests still inside the signing window, in the <c>SignatureNonces</c> table:
/// PartitionKey the signer's key (hex), RowKey the nonce, <c>AcceptedUntil</c> when the row may go.
/// </summary>
public sealed class NonceStore(TableServiceClient tables)
{
    public const string TableName = "SignatureNonces";
    public const string AcceptedUntilProperty = "AcceptedUntil";

    private readonly TableClient table = tables.GetTableClient(TableName);
    private volatile bool tableExists;

    public TableClient Table => table;

    /// <summary>Records the nonce; false when this key already used it (a replay).</summary>
    /// <remarks>
    /// The insert itself decides, so two copies of one request racing on two instances cannot both pass: the
    /// storage service accepts one AddEntity and answers the other 409 Conflict.
    /// </remarks>
    public async Task<bool> TryRecordAsync(VerifiedRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await EnsureTableAsync(cancellationToken);
        var row = new TableEntity(request.PublicKeyHex, RowKey(request.Nonce))
        {
            [AcceptedUntilProperty] = request.AcceptedUntil,
        };
        try
        {
            await AddAsync(row, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status409Conflict)
        {
            return false;
        }
    }

    private async Task AddAsync(TableEntity row, CancellationToken cancellationToken)
    {
        try
        {
            await table.AddEntityAsync(row, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status404NotFound)
        {
            // Deleted while the app ran (an operator clearing it): create it again rather than fail every signed call.
            tableExists = false;
            await EnsureTableAsync(cancellationToken);
            await table.AddEntityAsync(row, cancellationToken);
        }
    }

    /// <summary>Deletes up to <paramref name="limit"/> rows whose <c>AcceptedUntil</c> is before <paramref name="now"/>.</summary>
    /// <returns>How many were deleted, and whether expired rows were left for the next run.</returns>
    public async Task<(int Deleted, bool More)> DeleteExpiredAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        // A filter on a property scans every partition; the table only ever holds the last few minutes' nonces
        // plus what the previous runs left, so the scan stays small.
        var expired = new List<(string PartitionKey, string RowKey)>();
        var more = false;
        try
        {
            var rows = table.QueryAsync<TableEntity>(
                TableClient.CreateQueryFilter($"AcceptedUntil lt {now}"),
                maxPerPage: Math.Min(limit + 1, 1000),
                select: [nameof(TableEntity.PartitionKey), nameof(TableEntity.RowKey)],
                cancellationToken: cancellationToken);
            await foreach (var row in rows)
            {
                if (expired.Count == limit)
                {
                    more = true;
                    break;
                }

                expired.Add((row.PartitionKey, row.RowKey));
            }
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status404NotFound)
        {
            // No signed request has come in yet, so there is no table.
            return (0, false);
        }

        // A delete of a row already gone succeeds, so a run that overlaps another one is harmless.
        await Parallel.ForEachAsync(
            expired,
            new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (row, token) => await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, token));
        return (expired.Count, more);
    }

    public static string RowKey(Guid nonce) => nonce.ToString("D");

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (!tableExists)
        {
            await table.CreateIfNotExistsAsync(cancellationToken);
            tableExists = true;
        }
    }
}
