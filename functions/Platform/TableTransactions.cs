using Azure.Data.Tables;

namespace DecentCloud.Functions.Platform;

/// <summary>All-or-nothing writes of rows of one partition, the way every store in the app records a business event.</summary>
public static class TableTransactions
{
    /// <summary>
    /// Writes every row in one transaction of their partition: a row with an ETag is replaced If-Match it, one without is
    /// added. False when any precondition failed (412, or 409 for a row already there): then nothing was written. On
    /// success each row carries its new ETag.
    /// </summary>
    public static async Task<bool> TryWriteAllAsync(TableClient table, IReadOnlyList<ITableEntity> rows, CancellationToken cancellationToken)
    {
        var actions = rows.Select(row => row.ETag == default
            ? new TableTransactionAction(TableTransactionActionType.Add, row)
            : new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, row.ETag)).ToList();
        try
        {
            var response = await table.SubmitTransactionAsync(actions, cancellationToken);
            for (var i = 0; i < rows.Count; i++)
            {
                rows[i].ETag = response.Value[i].Headers.ETag ?? default;
            }

            return true;
        }
        catch (TableTransactionFailedException ex) when (ex.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status409Conflict)
        {
            return false;
        }
    }
}
