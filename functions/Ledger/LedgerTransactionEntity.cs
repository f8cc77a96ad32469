using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Ledger;

/// <summary>
/// One ledger transaction: balanced entries in one currency, written once (append-only) beside the business row it
/// accounts for, in the same table transaction (docs/ledger.md). Its RowKey is made from its idempotency key, so a second
/// post of the same business event fails the whole table transaction with 409 instead of counting twice.
/// </summary>
public sealed class LedgerTransactionEntity : ITableEntity
{
    public const string RowKeyPrefix = "ledger-";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    /// <summary>The business event: <c>payment:stripe:{session}</c>, <c>release:{contract}:{period end}</c>, ... (docs/ledger.md).</summary>
    public string IdempotencyKey { get; set; } = "";

    /// <summary>payment, refund, chargeback, release or payout (<see cref="LedgerKinds"/>).</summary>
    public string Kind { get; set; } = "";

    public string Currency { get; set; } = "";

    /// <summary>When the business event happened (the payment, the end of the released period, the transfer's recording).</summary>
    public DateTimeOffset OccurredAt { get; set; }

    public string? ContractId { get; set; }

    public string? ProviderPubkey { get; set; }

    /// <summary>The outside reference: the payment or refund id, the dispute id, the transfer reference.</summary>
    public string? Reference { get; set; }

    /// <summary>The entries as JSON, <c>[{"account":"escrow:…","amountMinor":-1785}]</c>: debits positive, credits negative.</summary>
    public string Entries { get; set; } = "[]";

    public IReadOnlyList<LedgerEntry> ReadEntries() =>
        JsonSerializer.Deserialize<List<LedgerEntry>>(Entries, Json)
        ?? throw new InvalidDataException($"ledger transaction {PartitionKey}/{RowKey} has no entries");

    public void WriteEntries(IReadOnlyList<LedgerEntry> entries) => Entries = JsonSerializer.Serialize(entries, Json);

    /// <summary>
    /// The RowKey of an idempotency key: the key itself when it is short and made of characters a RowKey takes, else its
    /// SHA-256 (a transfer reference may hold anything): the same key always gives the same row.
    /// </summary>
    public static string RowKeyFor(string kind, string idempotencyKey) =>
        idempotencyKey.Length <= 200 && idempotencyKey.All(c => char.IsAsciiLetterOrDigit(c) || c is ':' or '-' or '_' or '.')
            ? RowKeyPrefix + idempotencyKey
            : $"{RowKeyPrefix}{kind}:h{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)))}";
}

/// <summary>One line of a ledger transaction: an account and a signed amount, debit positive and credit negative.</summary>
public sealed record LedgerEntry(string Account, long AmountMinor);

public static class LedgerKinds
{
    public const string Payment = "payment";
    public const string Refund = "refund";
    public const string Chargeback = "chargeback";
    public const string Release = "release";
    public const string Payout = "payout";
}

/// <summary>
/// The accounts (docs/ledger.md, "Accounts"). The platform's money in and out: renter payments received (debit-normal),
/// refunds paid and payouts paid (credit-normal, they take away from it); what it owes: escrow per contract and provider
/// payable per provider (credit-normal); what it keeps or loses: platform fees (credit-normal), platform losses
/// (debit-normal: a refund or chargeback of money already released).
/// </summary>
public static class LedgerAccounts
{
    public const string PaymentsReceived = "renter-payments-received";
    public const string RefundsPaid = "refunds-paid";
    public const string PayoutsPaid = "payouts-paid";
    public const string PlatformFees = "platform-fees";
    public const string PlatformLosses = "platform-losses";
    public const string EscrowPrefix = "escrow:";
    public const string PayablePrefix = "provider-payable:";

    public static string Escrow(string contractId) => EscrowPrefix + contractId;

    public static string Payable(string providerPubkey) => PayablePrefix + providerPubkey;
}
