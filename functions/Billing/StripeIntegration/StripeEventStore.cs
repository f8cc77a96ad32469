using Azure;
using Azure.Data.Tables;
using DecentCloud.Functions.Hosting;

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

    /// <summary>Records what processing made of the event (merge: the body stays).</summary>
    public async Task MarkAsync(string eventId, string status, string outcome, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var mark = new TableEntity(eventId, EventRowKey) { ["Status"] = status, ["Outcome"] = outcome, ["ProcessedAt"] = at };
        await table.UpsertEntityAsync(mark, TableUpdateMode.Merge, cancellationToken);
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
}

/// <summary>The fields of an event needed before it is processed: read from the verified body without Stripe.net's model.</summary>
public sealed record StripeEventHead(string Id, string Type, DateTimeOffset Created, string? ApiVersion, string? ObjectId);

public sealed record StripeEventRecord(TableEntity Row, string Status, string Body);

/// <summary>The message on the <c>stripe-events</c> queue: the event, and its body when it fits in a queue message.</summary>
public sealed record StripeEventMessage(string EventId, string Type, DateTimeOffset Created, string? Body);
