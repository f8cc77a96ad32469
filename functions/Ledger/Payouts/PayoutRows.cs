using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Ledger.Payouts;

/// <summary>
/// A payout an admin made outside the system and recorded (docs/payouts.md), in the provider's partition of
/// <c>Payouts</c>, written in one table transaction with its ledger transaction and the provider's
/// <see cref="PayoutBalanceEntity"/>. RowKey <c>payout-{inverted ticks}-{reference hash}</c>: newest first. Never edited.
/// </summary>
public sealed class PayoutEntity : ITableEntity
{
    public const string RowKeyPrefix = "payout-";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string ProviderPubkey { get; set; } = "";

    public string Currency { get; set; } = "";

    public long AmountMinor { get; set; }

    /// <summary><see cref="PayoutMethods"/>: icpay or bank-transfer.</summary>
    public string Method { get; set; } = "";

    public string TransferReference { get; set; } = "";

    public DateTimeOffset RecordedAt { get; set; }

    /// <summary>Who recorded it (the admin key's name).</summary>
    public string RecordedBy { get; set; } = "";

    /// <summary>
    /// What had been paid out to the provider in this currency before this payout: it settled the provider's released
    /// money (net of fees, oldest release first) from this point for its amount (docs/payouts.md, "Settlement").
    /// </summary>
    public long SettledFromMinor { get; set; }

    public string LedgerKey { get; set; } = "";

    public static string RowKeyFor(DateTimeOffset recordedAt, string transferReference) =>
        $"{RowKeyPrefix}{DateTimeOffset.MaxValue.UtcTicks - recordedAt.UtcTicks:D19}-{TransferReferenceEntity.Hash(transferReference)[..16]}";
}

/// <summary>
/// What a provider was paid out in one currency, in all: the row every payout replaces If-Match its ETag in the same
/// table transaction, so two payouts recorded at once for the same provider are serialised and what was paid out never
/// passes what was released (RowKey <c>balance-{currency}</c>).
/// </summary>
public sealed class PayoutBalanceEntity : ITableEntity
{
    public const string RowKeyPrefix = "balance-";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string Currency { get; set; } = "";

    public long PaidOutMinor { get; set; }

    public int Payouts { get; set; }

    public DateTimeOffset? LastPayoutAt { get; set; }

    public static string RowKeyFor(string currency) => RowKeyPrefix + currency;
}

/// <summary>
/// A transfer reference taken by a payout, in the <c>_references</c> partition (RowKey <c>ref-{SHA-256 of the
/// reference}</c>): a transfer reference names one payout across every provider, so the same reference sent again
/// answers that payout, and with another provider, currency, amount or method is refused. Written before the payout's
/// own table transaction (another partition); <see cref="PayoutRowKey"/> is where that payout is or will be.
/// </summary>
public sealed class TransferReferenceEntity : ITableEntity
{
    public const string Partition = "_references";

    public string PartitionKey { get; set; } = Partition;

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string TransferReference { get; set; } = "";

    public string ProviderPubkey { get; set; } = "";

    public string Currency { get; set; } = "";

    public long AmountMinor { get; set; }

    public string Method { get; set; } = "";

    public string PayoutRowKey { get; set; } = "";

    public DateTimeOffset ClaimedAt { get; set; }

    public bool Matches(PayoutRequest request) =>
        ProviderPubkey == request.ProviderPubkey && Currency == request.Currency && AmountMinor == request.AmountMinor && Method == request.Method;

    public static string RowKeyFor(string transferReference) => "ref-" + Hash(transferReference);

    public static string Hash(string transferReference) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(transferReference)));
}

public static class PayoutMethods
{
    public const string Icpay = "icpay";
    public const string BankTransfer = "bank-transfer";

    public static readonly IReadOnlyList<string> All = [Icpay, BankTransfer];
}

/// <summary>A payout to record, its fields checked and normalised (<see cref="PayoutRequestBody.Validate"/>).</summary>
public sealed record PayoutRequest(string ProviderPubkey, string Currency, long AmountMinor, string Method, string TransferReference);

/// <summary>The body of <c>POST /api/v1/admin/payouts</c>.</summary>
public sealed record PayoutRequestBody(string? ProviderPubkey, string? Currency, long? AmountMinor, string? Method, string? TransferReference)
{
    public const int MaxReferenceLength = 200;

    /// <summary>More than any real payout: a guard against a slipped digit, not a business limit (what is owed is the limit).</summary>
    public const long MaxAmountMinor = 1_000_000_000_000;

    /// <summary>The request, or the errors per field (400: nothing is written).</summary>
    public (PayoutRequest? Request, Dictionary<string, string[]> Errors) Validate()
    {
        var errors = new Dictionary<string, string[]>();
        var provider = ProviderPubkey?.Trim().ToLowerInvariant() ?? "";
        if (provider.Length != 64 || !provider.All(char.IsAsciiHexDigit))
        {
            errors["providerPubkey"] = ["providerPubkey must be the provider's Ed25519 public key: 64 hex characters."];
        }

        var currency = Currency?.Trim().ToUpperInvariant() ?? "";
        if (currency.Length != 3 || !currency.All(char.IsAsciiLetterUpper))
        {
            errors["currency"] = ["currency must be a three-letter ISO 4217 code, e.g. EUR."];
        }

        if (AmountMinor is not (> 0 and <= MaxAmountMinor))
        {
            errors["amountMinor"] = [$"amountMinor must be a whole number of minor units (cents) from 1 to {MaxAmountMinor.ToString(CultureInfo.InvariantCulture)}."];
        }

        var method = Method?.Trim().ToLowerInvariant() ?? "";
        if (!PayoutMethods.All.Contains(method))
        {
            errors["method"] = [$"method must be one of {string.Join(", ", PayoutMethods.All)}."];
        }

        var reference = TransferReference?.Trim() ?? "";
        if (reference.Length is 0 or > MaxReferenceLength || reference.Any(char.IsControl))
        {
            errors["transferReference"] = [$"transferReference must be the transfer's reference (the icpay.org transaction id or the bank's reference): 1 to {MaxReferenceLength} characters, no control characters."];
        }

        return errors.Count > 0 ? (null, errors) : (new PayoutRequest(provider, currency, AmountMinor!.Value, method, reference), errors);
    }
}
