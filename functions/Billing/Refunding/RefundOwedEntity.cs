using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Billing.Refunding;

/// <summary>
/// A refund the platform owes on one payment, in the contract's partition (RowKey <c>refund-{session id}</c>): keyed by
/// the payment, so a payment is owed back at most once, whoever asks. Written in the same table transaction as what
/// caused it (the contract's move, or the payment itself when it came after the contract ended or came twice).
/// <c>PayRefunds</c> asks Stripe for it once no approval is pending; <c>charge.refunded</c> marks it done.
/// </summary>
public sealed class RefundOwedEntity : ITableEntity
{
    public const string RowKeyPrefix = "refund-";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    /// <summary>The Checkout Session of the payment owed back.</summary>
    public string SessionId { get; set; } = "";

    public string? PaymentIntentId { get; set; }

    public string Currency { get; set; } = "";

    /// <summary>The <see cref="RefundReason"/> name.</summary>
    public string Reason { get; set; } = "";

    /// <summary>What the payment charged (gross, VAT included), had refunded and had released when the refund was computed.</summary>
    public long ChargedMinor { get; set; }

    public long RefundedBeforeMinor { get; set; }

    public long ReleasedMinor { get; set; }

    /// <summary>The refund owed, by the rules.</summary>
    public long RefundMinor { get; set; }

    public bool AwaitsAdminApproval { get; set; }

    public DateTimeOffset RequestedAt { get; set; }

    /// <summary>The admin (key name) who approved a refund above the threshold, and when.</summary>
    public string? ApprovedBy { get; set; }

    public DateTimeOffset? ApprovedAt { get; set; }

    /// <summary>
    /// The amount asked of Stripe, and what Stripe reported refunded of the payment at that moment: fixed before the call,
    /// so every retry sends the same request under the same idempotency key, and done means the payment's refunded
    /// total reached their sum.
    /// </summary>
    public long? IssuingMinor { get; set; }

    public long? RefundedAtIssueMinor { get; set; }

    /// <summary>When Stripe accepted the refund, and its id.</summary>
    public DateTimeOffset? RefundIssuedAt { get; set; }

    public string? StripeRefundId { get; set; }

    /// <summary>When Stripe reported the payment refunded as far as this refund reaches (<c>charge.refunded</c>).</summary>
    public DateTimeOffset? RefundedAt { get; set; }

    public static string RowKeyFor(string sessionId) => RowKeyPrefix + sessionId;

    /// <summary>open (awaiting approval or to pay), issued (asked of Stripe), or done (Stripe reported it).</summary>
    public string Status => RefundedAt is not null ? "done" : RefundIssuedAt is not null ? "issued" : AwaitsAdminApproval ? "awaiting-approval" : "to-pay";

    /// <summary>Whether Stripe's refunded total for the payment shows this refund done.</summary>
    public bool DoneAt(long cumulativeRefundedMinor) =>
        cumulativeRefundedMinor >= ChargedMinor
        || (IssuingMinor is { } issuing && cumulativeRefundedMinor >= (RefundedAtIssueMinor ?? 0) + issuing);
}
