using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Marketplace.Contracts;

/// <summary>
/// A refund the platform owes on a contract, in the contract's own partition (RowKey <c>refund</c>), written in
/// the same transaction as the move that caused it: a paid contract never ends without its refund on record.
/// Billing pays it out through Stripe (<c>PayRefunds</c>) once it needs no approval, and marks it done when Stripe reports it.
/// </summary>
public sealed class RefundRequestEntity : ITableEntity
{
    public const string RefundRowKey = "refund";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = RefundRowKey;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public long RefundMinor { get; set; }

    public string Currency { get; set; } = "";

    public string Reason { get; set; } = "";

    public bool AwaitsAdminApproval { get; set; }

    public DateTimeOffset RequestedAt { get; set; }

    /// <summary>When Stripe reported the refund done (<c>charge.refunded</c> covering it).</summary>
    public DateTimeOffset? RefundedAt { get; set; }

    /// <summary>When billing asked Stripe for the refund, and Stripe's refund id.</summary>
    public DateTimeOffset? RefundIssuedAt { get; set; }

    public string? StripeRefundId { get; set; }

    /// <summary>The admin (key name) who approved a refund above the threshold, and when.</summary>
    public string? ApprovedBy { get; set; }

    public DateTimeOffset? ApprovedAt { get; set; }
}
