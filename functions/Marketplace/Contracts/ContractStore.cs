using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Marketplace.Contracts;

/// <summary>
/// The <c>Contracts</c> table. A move replaces the contract row (If-Match its ETag) and adds its history row in one
/// table transaction, so the move and its record are atomic and of two concurrent moves only one wins.
/// </summary>
public sealed class ContractStore(TableServiceClient tables)
{
    public const string TableName = "Contracts";

    private readonly TableClient table = tables.GetTableClient(TableName);
    private volatile bool tableExists;

    public TableClient Table => table;

    /// <summary>A new contract id: a version 7 Guid without dashes.</summary>
    public static string NewId() => Guid.CreateVersion7().ToString("N");

    public async Task<ContractEntity?> FindAsync(string id, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var key = id.Trim().ToLowerInvariant();
        if (key.Length == 0)
        {
            return null;
        }

        var row = await table.GetEntityIfExistsAsync<ContractEntity>(key, ContractEntity.ContractRowKey, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>Adds the contract row; false when one with the same id exists (storage answered 409).</summary>
    public async Task<bool> TryAddAsync(ContractEntity contract, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        try
        {
            var response = await table.AddEntityAsync(contract, cancellationToken);
            contract.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status409Conflict)
        {
            return false;
        }
    }

    /// <summary>
    /// Replaces the contract (If-Match its ETag) and adds <paramref name="move"/> in one transaction; false when the
    /// contract changed since read or the history row exists (storage answered 412 or 409): nothing was written.
    /// <paramref name="alongside"/> rows of the same partition are added in the same transaction (the refunds owed, which
    /// must exist exactly when the move does); one that exists already fails the whole transaction (409).
    /// </summary>
    public async Task<bool> TryMoveAsync(ContractEntity contract, ContractMoveEntity move, CancellationToken cancellationToken, IEnumerable<ITableEntity>? alongside = null)
    {
        await EnsureTableAsync(cancellationToken);
        try
        {
            List<TableTransactionAction> actions =
            [
                new TableTransactionAction(TableTransactionActionType.UpdateReplace, contract, contract.ETag),
                new TableTransactionAction(TableTransactionActionType.Add, move),
            ];
            actions.AddRange((alongside ?? []).Select(row => new TableTransactionAction(TableTransactionActionType.Add, row)));

            var response = await table.SubmitTransactionAsync(actions, cancellationToken);
            contract.ETag = response.Value[0].Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status409Conflict)
        {
            return false;
        }
    }

    /// <summary>The history rows of a contract, newest first.</summary>
    public async Task<List<ContractMoveEntity>> MovesAsync(string id, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var moves = new List<ContractMoveEntity>();
        await foreach (var move in table.QueryAsync<ContractMoveEntity>(
            m => m.PartitionKey == id && m.RowKey.CompareTo(ContractMoveEntity.RowKeyPrefix) >= 0 && m.RowKey.CompareTo("move.") < 0,
            cancellationToken: cancellationToken))
        {
            moves.Add(move);
        }

        return moves;
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
