using Azure;
using Azure.Data.Tables;
using DecentCloud.Functions.Platform;

namespace DecentCloud.Functions.Billing.Icpay;

/// <summary>
/// One row per verified ICPay event in the <c>IcpayEvents</c> table (PartitionKey the event id, RowKey <c>event</c>):
/// the raw body as received, when it came, and what processing made of it. The event id is the dedupe key: the webhook
/// adds the row, and a second delivery of the same id finds it there.
/// </summary>
public sealed class IcpayEventStore(TableServiceClient tables)
{
    public const string TableName = "IcpayEvents";
    public const string EventRowKey = "event";

    public const int MaxBodyBytes = TableBodies.MaxBodyBytes;

    private readonly TableClient table = tables.GetTableClient(TableName);
    private volatile bool tableExists;

    /// <summary>Records a verified event; false when its id was recorded before (a redelivery).</summary>
    public async Task<bool> TryRecordAsync(IcpayEventHead head, string body, DateTimeOffset receivedAt, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var row = new TableEntity(head.Id, EventRowKey)
        {
            ["Type"] = head.Type,
            ["Created"] = head.Created,
            ["ObjectId"] = head.ObjectId,
            ["ReceivedAt"] = receivedAt,
            ["Status"] = IcpayEventStatus.Received,
        };
        TableBodies.Write(row, body);
        try
        {
            await table.AddEntityAsync(row, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status409Conflict)
        {
            return false;
        }
    }

    public async Task<IcpayEventRecord?> FindAsync(string eventId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var found = await table.GetEntityIfExistsAsync<TableEntity>(eventId, EventRowKey, cancellationToken: cancellationToken);
        if (!found.HasValue)
        {
            return null;
        }

        var row = found.Value!;
        return new IcpayEventRecord(row.PartitionKey, row.GetString("Type") ?? "", row.GetString("Status") ?? IcpayEventStatus.Received, row.GetString("Outcome"), TableBodies.Read(row));
    }

    /// <summary>
    /// Records what processing made of the event, only forward (received, then ignored, then processed), If-Match the
    /// row's ETag: a copy that ran alongside the first never turns processed back into ignored. Answers the status kept.
    /// </summary>
    public async Task<string> MarkAsync(string eventId, string status, string outcome, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        return await EventRows.MarkForwardAsync(table, "ICPay", eventId, EventRowKey, status, outcome, at, IcpayEventStatus.Rank, IcpayEventStatus.Received, cancellationToken);
    }

    /// <summary>Rows still <c>received</c> that arrived before <paramref name="receivedBefore"/>: processing never finished them.</summary>
    public async IAsyncEnumerable<StuckIcpayEvent> StuckAsync(DateTimeOffset receivedBefore, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter($"RowKey eq {EventRowKey} and Status eq {IcpayEventStatus.Received} and ReceivedAt lt {receivedBefore}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey", "Type", "ReceivedAt", "Requeues", "RequeuedAt"], cancellationToken: cancellationToken))
        {
            yield return new StuckIcpayEvent(row.PartitionKey, row.GetString("Type") ?? "", row.GetDateTimeOffset("ReceivedAt") ?? DateTimeOffset.UnixEpoch,
                row.GetInt32("Requeues") ?? 0, row.GetDateTimeOffset("RequeuedAt"), row.ETag);
        }
    }

    /// <summary>Counts one re-drive on the row If-Match its ETag; false when someone changed it since it was read.</summary>
    public Task<bool> TryCountRequeueAsync(StuckIcpayEvent stuck, DateTimeOffset at, CancellationToken cancellationToken) =>
        EventRows.TryCountRequeueAsync(table, stuck.EventId, EventRowKey, stuck.Requeues, stuck.ETag, at, cancellationToken);

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (!tableExists)
        {
            await table.CreateIfNotExistsAsync(cancellationToken);
            tableExists = true;
        }
    }
}

public static class IcpayEventStatus
{
    public const string Received = "received";

    /// <summary>Its effect, if any, is in the contract's rows.</summary>
    public const string Processed = "processed";

    /// <summary>Kept, nothing to do: a type not handled, a payment of no known contract, or one whose body cannot be read.</summary>
    public const string Ignored = "ignored";

    public static int Rank(string status) => status switch
    {
        Processed => 2,
        Ignored => 1,
        _ => 0,
    };
}

public sealed record IcpayEventRecord(string Id, string Type, string Status, string? Outcome, string Body);

public sealed record StuckIcpayEvent(string EventId, string Type, DateTimeOffset ReceivedAt, int Requeues, DateTimeOffset? RequeuedAt, ETag ETag);

/// <summary>The message on the <c>icpay-events</c> queue: the id of an event whose row holds its body.</summary>
public sealed record IcpayEventMessage(string EventId)
{
    public const string QueueName = "icpay-events";
}
