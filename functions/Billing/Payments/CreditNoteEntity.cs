using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Billing.Payments;

/// <summary>
/// A refund Stripe reported, to be credited: in the contract's partition, RowKey
/// <c>creditnote-{session id}-{cumulative refunded, 15 digits}</c>, written in the same transaction that raises the
/// payment's refunded total, so each refunded amount gets exactly one credit note. The credit note's own number and
/// PDF are recorded on the row when issued.
/// </summary>
public sealed class CreditNoteEntity : ITableEntity
{
    public const string RowKeyPrefix = "creditnote-";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string SessionId { get; set; } = "";

    public string ChargeId { get; set; } = "";

    /// <summary>Refunded by this note (gross, minor units).</summary>
    public long RefundedMinor { get; set; }

    /// <summary>The payment's refunded total once this note is counted.</summary>
    public long CumulativeRefundedMinor { get; set; }

    public string Currency { get; set; } = "";

    public DateTimeOffset RefundedAt { get; set; }

    public static string RowKeyFor(string sessionId, long cumulativeMinor) =>
        $"{RowKeyPrefix}{sessionId}-{cumulativeMinor.ToString("D15", System.Globalization.CultureInfo.InvariantCulture)}";
}

/// <summary>A dispute of a contract's charge (RowKey <c>dispute-{dispute id}</c>); a closed status outranks an open one.</summary>
public sealed class DisputeEntity : ITableEntity
{
    public const string RowKeyPrefix = "dispute-";

    /// <summary>The status of a dispute the provider lost: the charge went back to the cardholder (a chargeback).</summary>
    public const string Lost = "lost";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string DisputeId { get; set; } = "";

    public string? ChargeId { get; set; }

    /// <summary>Stripe's dispute status: needs_response, under_review, won, lost, warning_closed...</summary>
    public string Status { get; set; } = "";

    public string? Reason { get; set; }

    public long AmountMinor { get; set; }

    public string Currency { get; set; } = "";

    public DateTimeOffset LastEventAt { get; set; }

    public static bool IsClosed(string status) => status is "won" or "lost" or "warning_closed" or "prevented";
}
