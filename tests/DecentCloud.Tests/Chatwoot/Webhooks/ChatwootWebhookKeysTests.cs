using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using DecentCloud.Functions.Chatwoot.Webhooks;
using DecentCloud.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace DecentCloud.Tests.Chatwoot.Webhooks;

public sealed class ChatwootWebhookKeysTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private ChatwootWebhookKeys Keys() => new(new TableServiceClient(storage.ConnectionString), TimeProvider.System, NullLogger<ChatwootWebhookKeys>.Instance);

    [Fact]
    public void A_new_url_token_is_32_random_bytes_in_base64url()
    {
        var tokens = Enumerable.Range(0, 100).Select(_ => ChatwootWebhookKeys.NewUrlToken()).ToList();

        Assert.All(tokens, t => Assert.Equal(32, System.Buffers.Text.Base64Url.DecodeFromChars(t).Length));
        Assert.All(tokens, t => Assert.Matches("^[A-Za-z0-9_-]{43}$", t));
        Assert.Equal(100, tokens.Distinct().Count());
    }

    [Fact]
    public async Task A_url_token_is_known_by_its_provider_and_only_its_hash_is_stored()
    {
        var keys = Keys();
        var token = ChatwootWebhookKeys.NewUrlToken();

        await keys.RecordUrlTokenAsync(token, "ed25519:p1");

        Assert.Equal("ed25519:p1", await keys.ProviderOfTokenAsync(token));
        Assert.Null(await keys.ProviderOfTokenAsync(ChatwootWebhookKeys.NewUrlToken()));
        Assert.Null(await keys.ProviderOfTokenAsync(""));
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        var rows = await keys.Table.QueryAsync<TableEntity>().ToListAsync();
        Assert.Contains(rows, r => r.PartitionKey == "token-" + hash);
        Assert.DoesNotContain(rows, r => r.PartitionKey.Contains(token, StringComparison.Ordinal) || ((IDictionary<string, object>)r).Values.OfType<string>().Any(v => v.Contains(token, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_inbox_secret_is_read_back_with_its_provider_and_a_reset_secret_replaces_it()
    {
        var keys = Keys();
        var inboxId = ChatwootSends.NewInboxId();

        Assert.Null(await keys.InboxSecretAsync(inboxId));
        await keys.RecordInboxSecretAsync(inboxId, "first-secret", "ed25519:p2");
        await keys.RecordInboxSecretAsync(inboxId, "reset-secret", "ed25519:p2");

        Assert.Equal("reset-secret", await keys.InboxSecretAsync(inboxId));
        Assert.Equal(new ChatwootInboxSecret(inboxId, "reset-secret", "ed25519:p2"), await keys.FindInboxSecretAsync(inboxId));
    }
}
