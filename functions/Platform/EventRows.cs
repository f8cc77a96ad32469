using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Platform;

/// <summary>
/// The writes the webhook event tables (Stripe's, ICPay's) share. Their rows are keyed by the provider's event id, hold a
/// <c>Status</c> that only moves forward (a rank per status), and count how often a stuck event was queued again.
/// </summary>
public static class EventRows
{
    private const int MaxMarkAttempts = 5;

    /// <summary>
    /// Records what processing made of an event (merge: the body stays), only forward by <paramref name="rank"/>. A late
    /// copy of the event (a redelivery that ran alongside the first and found the work already done) never moves the
    /// status back: the update is conditional on the row's ETag, and a row changed in between is read again. Answers the
    /// status the row holds afterwards.
    /// </summary>
    /// <param name="source">The events' provider, for the error when the row is missing (<c>Stripe</c>, <c>ICPay</c>).</param>
    public static async Task<string> MarkForwardAsync(
        TableClient table, string source, string eventId, string rowKey, string status, string outcome, DateTimeOffset at,
        Func<string, int> rank, string receivedStatus, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var found = await table.GetEntityIfExistsAsync<TableEntity>(eventId, rowKey, ["Status"], cancellationToken);
            if (!found.HasValue)
            {
                throw new InvalidOperationException($"{source} event {eventId} has no row to mark {status}");
            }

            var current = found.Value!.GetString("Status") ?? receivedStatus;
            if (rank(current) >= rank(status))
            {
                return current;
            }

            var mark = new TableEntity(eventId, rowKey) { ["Status"] = status, ["Outcome"] = outcome, ["ProcessedAt"] = at };
            try
            {
                await table.UpdateEntityAsync(mark, found.Value.ETag, TableUpdateMode.Merge, cancellationToken);
                return status;
            }
            catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status412PreconditionFailed && attempt < MaxMarkAttempts)
            {
                // Another copy marked it in between: read it again and decide again.
            }
        }
    }

    /// <summary>
    /// Counts one re-drive on the row, if nobody changed it since it was read (another re-drive, or processing that
    /// finished meanwhile); false when someone did, and the event is left alone this time.
    /// </summary>
    public static async Task<bool> TryCountRequeueAsync(TableClient table, string eventId, string rowKey, int requeuesBefore, ETag etag, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var mark = new TableEntity(eventId, rowKey) { ["Requeues"] = requeuesBefore + 1, ["RequeuedAt"] = at };
        try
        {
            await table.UpdateEntityAsync(mark, etag, TableUpdateMode.Merge, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status404NotFound)
        {
            return false;
        }
    }
}
