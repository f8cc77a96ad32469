using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Marketplace.Contracts;

/// <summary>The contract row of the <c>Contracts</c> table: PartitionKey the contract id, RowKey <c>contract</c>.</summary>
public sealed class ContractEntity : ITableEntity
{
    public const string ContractRowKey = "contract";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = ContractRowKey;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string RenterKey { get; set; } = "";

    public string ProviderKey { get; set; } = "";

    public string OfferingId { get; set; } = "";

    public int Hours { get; set; }

    public long PriceMinor { get; set; }

    public string Currency { get; set; } = "";

    public string SshKey { get; set; } = "";

    public string? Memo { get; set; }

    /// <summary>The lowercase state name (<see cref="ContractStateNames.Name"/>).</summary>
    public string State { get; set; } = "";

    public bool PaymentSucceeded { get; set; }

    /// <summary>The Checkout Session whose payment settled the contract (billing sets it with <see cref="PaymentSucceeded"/>).</summary>
    public string? PaidSessionId { get; set; }

    public DateTimeOffset? PaidAt { get; set; }

    /// <summary>The contract has ended and its payment is released as far as it ever will be (docs/ledger.md): the release timer passes it by.</summary>
    public bool ReleasesSettled { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public ContractState CurrentState =>
        ContractStateNames.TryParse(State, out var state)
            ? state
            : throw new InvalidOperationException($"Contract {PartitionKey} has an unknown stored state '{State}'.");

    public ContractView ToView() => new(
        PartitionKey, RenterKey, ProviderKey, OfferingId, Hours, PriceMinor, Currency, SshKey, Memo, State, PaymentSucceeded, CreatedAt, UpdatedAt);
}

/// <summary>A history row of a contract: same partition, RowKey <c>move-{inverted ticks}</c> so the newest sorts first.</summary>
public sealed class ContractMoveEntity : ITableEntity
{
    public const string RowKeyPrefix = "move-";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string From { get; set; } = "";

    public string To { get; set; } = "";

    /// <summary>The public key that made the move.</summary>
    public string By { get; set; } = "";

    public DateTimeOffset At { get; set; }

    public static string RowKeyFor(DateTimeOffset at) =>
        RowKeyPrefix + (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A contract as the API shows it.</summary>
public sealed record ContractView(
    string Id,
    string RenterPublicKey,
    string ProviderPublicKey,
    string OfferingId,
    int Hours,
    long PriceMinor,
    string Currency,
    string SshKey,
    string? Memo,
    string State,
    bool PaymentSucceeded,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>The body of renting: <c>POST /api/v1/contracts</c>.</summary>
/// <param name="Hours">The term; 720 (one month) when absent.</param>
public sealed record RentRequest(string? ProviderPubkey, string? OfferingId, int? Hours, string? SshKey, string? Memo)
{
    public const int MaxMemoLength = 1000;
}
