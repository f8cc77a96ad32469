using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Billing.Checkout;

/// <summary>
/// The contract's current Checkout Session, in the contract's partition of the <c>Contracts</c> table (RowKey
/// <c>checkout</c>). <see cref="Attempt"/> is part of the Stripe idempotency key: a new session is made only when the
/// last one can no longer be paid (expired or failed).
/// </summary>
public sealed class CheckoutEntity : ITableEntity
{
    public const string CheckoutRowKey = "checkout";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = CheckoutRowKey;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public int Attempt { get; set; }

    public string SessionId { get; set; } = "";

    public string Url { get; set; } = "";

    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary><c>open</c>, <c>pending</c> (completed with a delayed payment still on its way), <c>complete</c>, <c>expired</c> or <c>failed</c>.</summary>
    public string Status { get; set; } = CheckoutStatus.Open;

    public DateTimeOffset CreatedAt { get; set; }

    public bool Payable(DateTimeOffset now) => Status == CheckoutStatus.Open && ExpiresAt > now + CheckoutStatus.Margin;

    public CheckoutView ToView() => new(PartitionKey, SessionId, Url, ExpiresAt, Attempt);
}

public static class CheckoutStatus
{
    public const string Open = "open";
    public const string Pending = "pending";
    public const string Complete = "complete";
    public const string Expired = "expired";
    public const string Failed = "failed";

    /// <summary>A session this close to expiry is not handed out again: the renter would not finish paying in time.</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromMinutes(5);
}

/// <summary>The answer of <c>POST /api/v1/contracts/{id}/checkout</c>: where to send the renter to pay.</summary>
public sealed record CheckoutView(string ContractId, string SessionId, string Url, DateTimeOffset ExpiresAt, int Attempt);
