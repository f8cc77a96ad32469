using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Marketplace.Accounts;

/// <summary>Row <c>account</c> of the <c>Accounts</c> table: PartitionKey the user's public key (lower-case hex).</summary>
public sealed class AccountEntity : ITableEntity
{
    public const string AccountRowKey = "account";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = AccountRowKey;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string ContactEmail { get; set; } = "";

    /// <summary>Always false until the notification feature verifies addresses; a change of email resets it.</summary>
    public bool EmailVerified { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public AccountView ToView() => new(PartitionKey, ContactEmail, EmailVerified, CreatedAt, UpdatedAt);
}

/// <summary>Row <c>billing</c> of the <c>Accounts</c> table: the user's billing settings.</summary>
public sealed class BillingEntity : ITableEntity
{
    public const string BillingRowKey = "billing";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = BillingRowKey;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string LegalName { get; set; } = "";

    public string Line1 { get; set; } = "";

    public string? Line2 { get; set; }

    public string City { get; set; } = "";

    public string PostalCode { get; set; } = "";

    public string Country { get; set; } = "";

    public string? VatId { get; set; }

    public string? InvoiceEmail { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The renter's Stripe customer (billing sets it at the first checkout); not part of the settings a user edits.</summary>
    public string? StripeCustomerId { get; set; }

    /// <summary>The <see cref="UpdatedAt"/> the Stripe customer was last brought up to date with.</summary>
    public DateTimeOffset? StripeCustomerSyncedAt { get; set; }

    public void Apply(BillingSettings settings)
    {
        LegalName = settings.LegalName!;
        Line1 = settings.Line1!;
        Line2 = settings.Line2;
        City = settings.City!;
        PostalCode = settings.PostalCode!;
        Country = settings.Country!;
        VatId = settings.VatId;
        InvoiceEmail = settings.InvoiceEmail;
    }

    public BillingView ToView() => new(PartitionKey, LegalName, Line1, Line2, City, PostalCode, Country, VatId, InvoiceEmail, UpdatedAt);
}

/// <summary>
/// One row per SSH key of the <c>Accounts</c> table: RowKey <c>ssh-</c> and the SHA256 fingerprint's base64 in
/// its URL-safe form (<c>+</c> → <c>-</c>, <c>/</c> → <c>_</c>), because a RowKey cannot hold <c>/</c>.
/// </summary>
public sealed class SshKeyEntity : ITableEntity
{
    public const string RowKeyPrefix = "ssh-";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    /// <summary>As OpenSSH prints it: <c>SHA256:</c> and unpadded base64.</summary>
    public string Fingerprint { get; set; } = "";

    public string KeyType { get; set; } = "";

    /// <summary>The normalized key line: type, base64 and the comment if any.</summary>
    public string PublicKey { get; set; } = "";

    public string? Comment { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The RowKey of the key with this fingerprint (<c>SHA256:...</c>).</summary>
    public static string RowKeyOf(string fingerprint) =>
        RowKeyPrefix + fingerprint["SHA256:".Length..].Replace('+', '-').Replace('/', '_');

    public SshKeyView ToView() => new(Fingerprint, KeyType, PublicKey, Comment, CreatedAt);
}
