using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Chatwoot.Webhooks;

/// <summary>
/// The <c>ChatwootWebhookKeys</c> table: what verifies a delivery to an API inbox's <c>webhook_url</c>, recorded by the
/// onboarding when it creates the inbox, with the provider the inbox belongs to.
/// <list type="bullet">
/// <item>An inbox's channel <c>secret</c> (Chatwoot 4.12 and later sign with it): PartitionKey <c>inbox-{id}</c>.
/// The secret is kept as it is, because checking an HMAC needs the key itself; it is data at rest in the storage account
/// (encrypted by the service, not by this app; encrypting it here is out of scope), so access to the account is access
/// to the secrets.</item>
/// <item>A URL token (servers before 4.12 do not sign, so the onboarding puts a long random token in the inbox's webhook
/// URL): only its SHA-256 is kept, as the PartitionKey <c>token-{hex}</c>, so a copy of the table cannot make deliveries.</item>
/// </list>
/// </summary>
public sealed partial class ChatwootWebhookKeys(TableServiceClient tables, TimeProvider time, ILogger<ChatwootWebhookKeys> logger)
{
    public const string TableName = "ChatwootWebhookKeys";
    private const string SecretRowKey = "secret";
    private const string TokenRowKey = "token";

    /// <summary>Longer than any token <see cref="NewUrlToken"/> makes; a longer query value is not hashed at all.</summary>
    private const int MaxTokenChars = 512;

    private readonly TableClient table = tables.GetTableClient(TableName);
    private volatile bool tableExists;

    public TableClient Table => table;

    /// <summary>A new URL token: 32 random bytes, base64url (43 characters, safe in a query string as it is).</summary>
    public static string NewUrlToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>Records (or replaces, when Chatwoot's secret was reset) the channel secret of an API inbox.</summary>
    public async Task RecordInboxSecretAsync(long inboxId, string secret, string providerKey, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inboxId);
        ArgumentException.ThrowIfNullOrEmpty(secret);
        ArgumentException.ThrowIfNullOrWhiteSpace(providerKey);
        await EnsureTableAsync(cancellationToken);
        var row = new TableEntity(InboxKey(inboxId), SecretRowKey)
        {
            ["Secret"] = secret,
            ["ProviderKey"] = providerKey,
            ["RecordedAt"] = time.GetUtcNow(),
        };
        await table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
        LogInboxSecretRecorded(logger, inboxId, providerKey);
    }

    /// <summary>Records a URL token by its SHA-256; the token itself is not stored.</summary>
    public async Task RecordUrlTokenAsync(string token, string providerKey, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(token.Length, MaxTokenChars);
        ArgumentException.ThrowIfNullOrWhiteSpace(providerKey);
        await EnsureTableAsync(cancellationToken);
        var hash = Hash(token);
        var row = new TableEntity(TokenKey(hash), TokenRowKey)
        {
            ["Hash"] = hash,
            ["ProviderKey"] = providerKey,
            ["RecordedAt"] = time.GetUtcNow(),
        };
        await table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
        LogUrlTokenRecorded(logger, providerKey);
    }

    /// <summary>The channel secret of the inbox, or null when none was recorded.</summary>
    public async Task<string?> InboxSecretAsync(long inboxId, CancellationToken cancellationToken = default) =>
        (await FindInboxSecretAsync(inboxId, cancellationToken))?.Secret;

    /// <summary>The channel secret of the inbox and the provider it was recorded for, or null when none was recorded.</summary>
    public async Task<ChatwootInboxSecret?> FindInboxSecretAsync(long inboxId, CancellationToken cancellationToken = default)
    {
        if (inboxId <= 0)
        {
            return null;
        }

        await EnsureTableAsync(cancellationToken);
        var found = await table.GetEntityIfExistsAsync<TableEntity>(InboxKey(inboxId), SecretRowKey, cancellationToken: cancellationToken);
        return found.HasValue && found.Value!.GetString("Secret") is { Length: > 0 } secret
            ? new ChatwootInboxSecret(inboxId, secret, found.Value.GetString("ProviderKey") ?? "")
            : null;
    }

    /// <summary>The provider a URL token was recorded for, or null when the token is not one of ours.</summary>
    public async Task<string?> ProviderOfTokenAsync(string token, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenChars)
        {
            return null;
        }

        await EnsureTableAsync(cancellationToken);
        var hash = Hash(token);
        var found = await table.GetEntityIfExistsAsync<TableEntity>(TokenKey(hash), TokenRowKey, cancellationToken: cancellationToken);

        // The row is looked up by the hash, and timing on a SHA-256 tells nothing of the token it came from; the stored
        // hash is still compared in constant time, so a row written under the wrong key cannot let a token in.
        return found.HasValue && found.Value!.GetBinary("Hash") is { } stored && CryptographicOperations.FixedTimeEquals(stored, hash)
            ? found.Value.GetString("ProviderKey")
            : null;
    }

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private static string InboxKey(long inboxId) => "inbox-" + inboxId.ToString(CultureInfo.InvariantCulture);

    private static string TokenKey(byte[] hash) => "token-" + Convert.ToHexStringLower(hash);

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (!tableExists)
        {
            await table.CreateIfNotExistsAsync(cancellationToken);
            tableExists = true;
        }
    }

    [LoggerMessage(EventId = 9220, Level = LogLevel.Information, Message = "Recorded the Chatwoot webhook secret of inbox {InboxId} for provider {ProviderKey}")]
    private static partial void LogInboxSecretRecorded(ILogger logger, long inboxId, string providerKey);

    [LoggerMessage(EventId = 9221, Level = LogLevel.Information, Message = "Recorded a Chatwoot webhook URL token for provider {ProviderKey}")]
    private static partial void LogUrlTokenRecorded(ILogger logger, string providerKey);
}

/// <summary>An API inbox's channel secret and the provider the inbox was created for.</summary>
public sealed record ChatwootInboxSecret(long InboxId, string Secret, string ProviderKey);
