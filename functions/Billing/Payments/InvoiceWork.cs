namespace DecentCloud.Functions.Billing.Payments;

/// <summary>
/// The message on the <c>billing-invoices</c> queue: issue the invoice of a recorded payment, or, with
/// <paramref name="CreditNoteRowKey"/>, the credit note for a recorded refund. Issuing is idempotent per payment and per refund.
/// </summary>
public sealed record InvoiceWork(string ContractId, string SessionId, string? CreditNoteRowKey = null)
{
    public const string QueueName = "billing-invoices";
}

/// <summary>
/// The message on the <c>billing-receipts</c> queue: email the buyer the issued invoice of this payment (its receipt), or,
/// with <paramref name="DocumentRowKey"/>, the issued credit note of that row.
/// </summary>
public sealed record ReceiptWork(string ContractId, string SessionId, string? DocumentRowKey = null)
{
    public const string QueueName = "billing-receipts";

    [System.Text.Json.Serialization.JsonIgnore]
    public string RowKey => DocumentRowKey ?? Invoices.InvoiceEntity.RowKeyFor(SessionId);
}

/// <summary>What processing made of one Stripe event, recorded on the event's row.</summary>
public sealed record EventOutcome(bool Applied, string Text)
{
    public static EventOutcome Done(string text) => new(true, text);

    public static EventOutcome Ignored(string text) => new(false, text);
}

/// <summary>The event refers to a payment not recorded yet (events arrive in any order): retried later by the queue.</summary>
public sealed class PaymentNotRecordedYetException(string message) : Exception(message);
