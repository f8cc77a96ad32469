using Azure;
using Azure.Data.Tables;
using DecentCloud.Functions.Platform;

namespace DecentCloud.Functions.Billing.StripeIntegration;

/// <summary>
/// One row per Stripe event in the <c>StripeEvents</c> table (PartitionKey the event id, RowKey <c>event</c>): what
/// arrived, when, and what processing made of it. The event id is the dedupe key; the raw body is kept as received
/// (in 60 KB binary chunks, a table property holds at most 64 KiB) so that any event can be processed again.
/// </summary>
public sealed class StripeEventStore(TableServiceClient tables)
{
    public const string TableName = "StripeEvents";
    public const string EventRowKey = "event";

    public const int MaxBodyBytes = TableBodies.MaxBodyBytes;

    // The reconciler's own row: no event id starts with an underscore (Stripe's begin with evt_), and event queries filter on RowKey.
    private const string PollPartitionKey = "_reconciler";
    private const string PollRowKey = "poll";

    private readonly TableClient table = tables.GetTableClient(TableName);
    private volatile bool tableExists;

    public TableClient Table => table;

    /// <summary>Records a verified event and answers its record; null when it was recorded before (a redelivery).</summary>
    public async Task<StripeEventRecord?> TryRecordAsync(StripeEventHead head, string body, DateTimeOffset receivedAt, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var row = new TableEntity(head.Id, EventRowKey)
        {
            ["Type"] = head.Type,
            ["Created"] = head.Created,
            ["ApiVersion"] = head.ApiVersion,
            ["ObjectId"] = head.ObjectId,
            ["ReceivedAt"] = receivedAt,
            ["Status"] = StripeEventStatus.Received,
        };
        TableBodies.Write(row, body);

        try
        {
            await table.AddEntityAsync(row, cancellationToken);
            return new StripeEventRecord(row, StripeEventStatus.Received, body);
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status409Conflict)
        {
            return null;
        }
    }

    public async Task<StripeEventRecord?> FindAsync(string eventId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var found = await table.GetEntityIfExistsAsync<TableEntity>(eventId, EventRowKey, cancellationToken: cancellationToken);
        if (!found.HasValue)
        {
            return null;
        }

        var row = found.Value!;

        return new StripeEventRecord(row, row.GetString("Status") ?? StripeEventStatus.Received, TableBodies.Read(row));
    }

    /// <summary>
    /// Records what processing made of the event (merge: the body stays), only forward: <c>received</c>, then
    /// <c>ignored</c>, then <c>processed</c>. A late copy of the event (a redelivery that ran alongside the first and found
    /// the work already done) never turns <c>processed</c> back into <c>ignored</c>: the update is conditional on the
    /// row's ETag, and a row changed in between is read again. Answers the status the row holds afterwards.
    /// </summary>
    public async Task<string> MarkAsync(string eventId, string status, string outcome, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        return await EventRows.MarkForwardAsync(table, "Stripe", eventId, EventRowKey, status, outcome, at, StripeEventStatus.Rank, StripeEventStatus.Received, cancellationToken);
    }

    /// <summary>Whether the event has a row (it was recorded by its first delivery), without reading its body.</summary>
    public async Task<bool> ExistsAsync(string eventId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        return (await table.GetEntityIfExistsAsync<TableEntity>(eventId, EventRowKey, ["Status"], cancellationToken)).HasValue;
    }

    /// <summary>Rows still <c>received</c> that arrived before <paramref name="receivedBefore"/>: processing never finished them.</summary>
    public async IAsyncEnumerable<StuckStripeEvent> StuckAsync(DateTimeOffset receivedBefore, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter($"RowKey eq {EventRowKey} and Status eq {StripeEventStatus.Received} and ReceivedAt lt {receivedBefore}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey", "Type", "Created", "ReceivedAt", "Requeues", "RequeuedAt"], cancellationToken: cancellationToken))
        {
            yield return new StuckStripeEvent(
                row.PartitionKey,
                row.GetString("Type") ?? "",
                row.GetDateTimeOffset("Created") ?? DateTimeOffset.UnixEpoch,
                row.GetDateTimeOffset("ReceivedAt") ?? DateTimeOffset.UnixEpoch,
                row.GetInt32("Requeues") ?? 0,
                row.GetDateTimeOffset("RequeuedAt"),
                row.ETag);
        }
    }

    /// <summary>
    /// Counts one re-drive on the row, if nobody changed it since it was read (another reconciler, or processing that
    /// finished meanwhile); false when someone did, and the event is left alone this time.
    /// </summary>
    public Task<bool> TryCountRequeueAsync(StuckStripeEvent stuck, DateTimeOffset at, CancellationToken cancellationToken) =>
        EventRows.TryCountRequeueAsync(table, stuck.EventId, EventRowKey, stuck.Requeues, stuck.ETag, at, cancellationToken);

    /// <summary>The creation time of the newest event the reconciler has seen in Stripe's list; null before its first run.</summary>
    public async Task<DateTimeOffset?> PolledUpToAsync(CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var found = await table.GetEntityIfExistsAsync<TableEntity>(PollPartitionKey, PollRowKey, cancellationToken: cancellationToken);
        return found.HasValue ? found.Value!.GetDateTimeOffset("UpTo") : null;
    }

    public async Task SavePolledUpToAsync(DateTimeOffset upTo, DateTimeOffset at, int found, int queued, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var row = new TableEntity(PollPartitionKey, PollRowKey) { ["UpTo"] = upTo, ["LastRunAt"] = at, ["LastFound"] = found, ["LastQueued"] = queued };
        await table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
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

public static class StripeEventStatus
{
    public const string Received = "received";

    /// <summary>Processed: its effect (if any) is in the contract's rows.</summary>
    public const string Processed = "processed";

    /// <summary>Acknowledged and kept, but nothing to do: a type we do not handle, or not one of our sessions.</summary>
    public const string Ignored = "ignored";

    /// <summary>Acknowledged and kept, but Stripe.net cannot read it (a field of a type its model cannot hold); the outcome says why.</summary>
    public const string Unreadable = "unreadable";

    /// <summary>How far along a status is; a row's status only ever moves to a higher rank. An unknown status ranks lowest.</summary>
    public static int Rank(string status) => status switch
    {
        Processed => 2,
        Ignored or Unreadable => 1,
        _ => 0,
    };
}

/// <summary>The fields of an event needed before it is processed: read from the verified body without Stripe.net's model.</summary>
public sealed record StripeEventHead(string Id, string Type, DateTimeOffset Created, string? ApiVersion, string? ObjectId);

public sealed record StripeEventRecord(TableEntity Row, string Status, string Body);

/// <summary>An event row stuck in <c>received</c>, and how often it was re-driven already.</summary>
public sealed record StuckStripeEvent(string EventId, string Type, DateTimeOffset Created, DateTimeOffset ReceivedAt, int Requeues, DateTimeOffset? RequeuedAt, ETag ETag);

/// <summary>The message on the <c>stripe-events</c> queue: the event, and its body when it fits in a queue message.</summary>
public sealed record StripeEventMessage(string EventId, string Type, DateTimeOffset Created, string? Body);
