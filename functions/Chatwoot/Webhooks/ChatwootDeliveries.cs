using Azure;
using Azure.Data.Tables;
using DecentCloud.Functions.Platform;

namespace DecentCloud.Functions.Chatwoot.Webhooks;

/// <summary>
/// One row per verified Chatwoot delivery in the <c>ChatwootDeliveries</c> table (PartitionKey the delivery id, RowKey
/// <c>delivery</c>): what arrived, how it was verified, and what processing made of it. The delivery id is the dedupe
/// key. The raw body is kept as received (in 60 KB binary chunks; a table property holds at most 64 KiB).
/// </summary>
/// <remarks>
/// A row is claimed by the queue message that processes it (<c>ClaimedBy</c>, a queue message id, with
/// <c>ClaimedAt</c>), with the row's ETag, so that two messages of the same delivery processed at once forward it
/// once: the one that loses the claim leaves the work to the one holding it, whose own retries finish it. A claim older
/// than <see cref="ClaimTimeout"/> (a crashed instance, or a poison message replayed under a new id) can be taken over.
/// </remarks>
public sealed class ChatwootDeliveries(TableServiceClient tables)
{
    public const string TableName = "ChatwootDeliveries";
    public const string DeliveryRowKey = "delivery";
    private const int MaxClaimAttempts = 5;

    /// <summary>Chatwoot caps a message's content at 150,000 characters; a delivery carries it at most twice, mostly ASCII.</summary>
    public const int MaxBodyBytes = TableBodies.MaxBodyBytes;

    /// <summary>Well above a whole retry cycle of a queue message (host.json: 5 attempts, 30 s apart).</summary>
    public static readonly TimeSpan ClaimTimeout = TimeSpan.FromMinutes(10);

    private readonly TableClient table = tables.GetTableClient(TableName);
    private volatile bool tableExists;

    public TableClient Table => table;

    /// <summary>Records a verified delivery; false when it was recorded before (a redelivery).</summary>
    public async Task<bool> TryRecordAsync(ChatwootEventMessage message, string body, string? claimedBy, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var row = new TableEntity(message.DeliveryId, DeliveryRowKey)
        {
            ["Event"] = message.Event,
            ["ReceivedAt"] = message.ReceivedAt,
            ["VerifiedBy"] = message.VerifiedBy,
            ["ProviderKey"] = message.ProviderKey,
            ["Status"] = ChatwootDeliveryStatus.Received,
        };
        if (claimedBy is not null)
        {
            row["ClaimedBy"] = claimedBy;
            row["ClaimedAt"] = at;
        }

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

    public async Task<ChatwootDeliveryRecord?> FindAsync(string deliveryId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var found = await table.GetEntityIfExistsAsync<TableEntity>(deliveryId, DeliveryRowKey, cancellationToken: cancellationToken);
        if (!found.HasValue)
        {
            return null;
        }

        var row = found.Value!;

        return new ChatwootDeliveryRecord(
            row,
            row.GetString("Status") ?? ChatwootDeliveryStatus.Received,
            TableBodies.Read(row),
            row.GetString("ClaimedBy") is { Length: > 0 } claimedBy ? claimedBy : null,
            row.GetDateTimeOffset("ClaimedAt"));
    }

    /// <summary>
    /// Makes the delivery's row this queue message's to process: records it from the message on its first delivery, or
    /// claims the row already there. Answers whether to go on, and with which body.
    /// </summary>
    public async Task<ChatwootClaim> ClaimAsync(ChatwootEventMessage message, string queueMessageId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxClaimAttempts; attempt++)
        {
            var record = await FindAsync(message.DeliveryId, cancellationToken);
            if (record is null)
            {
                if (message.Body is null)
                {
                    throw new InvalidDataException($"Chatwoot delivery {message.DeliveryId} has no row and its message carries no body");
                }

                if (await TryRecordAsync(message, message.Body, queueMessageId, now, cancellationToken))
                {
                    return new ChatwootClaim(ChatwootClaimState.Claimed, message.Body, ChatwootDeliveryStatus.Received, queueMessageId);
                }

                continue;
            }

            if (record.Status is ChatwootDeliveryStatus.Processed or ChatwootDeliveryStatus.Ignored)
            {
                return new ChatwootClaim(ChatwootClaimState.Done, null, record.Status, record.ClaimedBy);
            }

            if (record.ClaimedBy == queueMessageId)
            {
                return new ChatwootClaim(ChatwootClaimState.Claimed, record.Body, record.Status, queueMessageId);
            }

            if (record.ClaimedBy is not null && record.ClaimedAt > now - ClaimTimeout)
            {
                return new ChatwootClaim(ChatwootClaimState.HeldByAnother, null, record.Status, record.ClaimedBy);
            }

            var claim = new TableEntity(message.DeliveryId, DeliveryRowKey) { ["ClaimedBy"] = queueMessageId, ["ClaimedAt"] = now };
            try
            {
                await table.UpdateEntityAsync(claim, record.Row.ETag, TableUpdateMode.Merge, cancellationToken);
                return new ChatwootClaim(ChatwootClaimState.Claimed, record.Body, record.Status, queueMessageId);
            }
            catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status412PreconditionFailed)
            {
                // Another message claimed or finished it in between: look again.
            }
        }

        throw new InvalidOperationException($"Chatwoot delivery {message.DeliveryId}: the claim kept changing under {MaxClaimAttempts} attempts");
    }

    /// <summary>Gives up this message's claim after a failure, so a replay under another message id need not wait for <see cref="ClaimTimeout"/>.</summary>
    public async Task ReleaseAsync(string deliveryId, string queueMessageId, CancellationToken cancellationToken)
    {
        if (await FindAsync(deliveryId, cancellationToken) is not { } record || record.ClaimedBy != queueMessageId)
        {
            return;
        }

        // Merge cannot remove a property; an empty ClaimedBy is no claim.
        var release = new TableEntity(deliveryId, DeliveryRowKey) { ["ClaimedBy"] = "" };
        try
        {
            await table.UpdateEntityAsync(release, record.Row.ETag, TableUpdateMode.Merge, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status412PreconditionFailed)
        {
            // Changed since it was read: no longer this message's claim to give up.
        }
    }

    /// <summary>Records what processing made of the delivery (merge: the body stays).</summary>
    public async Task MarkAsync(string deliveryId, string status, string outcome, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var mark = new TableEntity(deliveryId, DeliveryRowKey) { ["Status"] = status, ["Outcome"] = outcome, ["ProcessedAt"] = at };
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

public static class ChatwootDeliveryStatus
{
    public const string Received = "received";

    /// <summary>Processed: forwarded to the queue of its event.</summary>
    public const string Processed = "processed";

    /// <summary>Acknowledged and kept, but nothing consumes its event.</summary>
    public const string Ignored = "ignored";
}

/// <summary>How a delivery was verified: which key its signature matched, or its URL token.</summary>
public static class ChatwootVerifiedBy
{
    /// <summary>Signed with <c>CHATWOOT_WEBHOOK_SECRET</c>, an account webhook's secret.</summary>
    public const string AccountSecret = "account-secret";

    /// <summary>Signed with the recorded channel secret of the inbox the payload names.</summary>
    public const string InboxSecret = "inbox-secret";

    /// <summary>Unsigned (a server before 4.12), with a known URL token.</summary>
    public const string UrlToken = "url-token";
}

public sealed record ChatwootDeliveryRecord(TableEntity Row, string Status, string Body, string? ClaimedBy, DateTimeOffset? ClaimedAt);

public enum ChatwootClaimState
{
    /// <summary>This message processes the delivery.</summary>
    Claimed,

    /// <summary>Processed or ignored before: a redelivery.</summary>
    Done,

    /// <summary>Another message of the same delivery is processing it; its own retries finish it.</summary>
    HeldByAnother,
}

public sealed record ChatwootClaim(ChatwootClaimState State, string? Body, string Status, string? ClaimedBy);

/// <summary>
/// The message on the <c>chatwoot-events</c> queue: one verified delivery, and its body when it fits in a queue message
/// (a larger body is recorded in the delivery's row by the webhook first).
/// </summary>
/// <param name="ProviderKey">The provider the inbox secret or URL token was recorded for; null for the account secret.</param>
public sealed record ChatwootEventMessage(string DeliveryId, string Event, DateTimeOffset ReceivedAt, string VerifiedBy, string? ProviderKey, string? Body);
