using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using DecentCloud.Functions.Chatwoot.Webhooks;
using DecentCloud.Testing;

namespace DecentCloud.Tests.Chatwoot.Webhooks;

/// <summary>
/// Chatwoot deliveries as Chatwoot sends them (docs/chatwoot.md, "Deliveries"): the fixtures of "Payload shapes" as bodies, the three X-Chatwoot
/// headers, and the signature computed here independently of the app (HMAC-SHA256 of "{timestamp}.{body}", lower-case hex).
/// </summary>
public static class ChatwootSends
{
    public const string AccountSecret = "cw-account-webhook-secret-for-tests-7Qm2";
    public const string Path = "api/v1/webhooks/chatwoot";

    public static string Fixture(string name) =>
        File.ReadAllText(System.IO.Path.Combine(RepositoryRoot.Path, "tests", "DecentCloud.Tests", "Chatwoot", "Webhooks", "Fixtures", name + ".json"));

    /// <summary>A fixture with its inbox id (message: <c>inbox.id</c> and <c>conversation.inbox_id</c>; conversation: <c>inbox_id</c>) set.</summary>
    public static string FixtureForInbox(string name, long inboxId, Action<JsonObject>? change = null)
    {
        var body = JsonNode.Parse(Fixture(name))!.AsObject();
        if (body["inbox"] is JsonObject inbox)
        {
            inbox["id"] = inboxId;
        }

        if (body["conversation"] is JsonObject conversation)
        {
            conversation["inbox_id"] = inboxId;
        }

        if (body.ContainsKey("inbox_id"))
        {
            body["inbox_id"] = inboxId;
        }

        change?.Invoke(body);
        return body.ToJsonString();
    }

    public static long NewInboxId() => Random.Shared.NextInt64(100_000, 1_000_000_000);

    public static string Signature(string body, string secret, long timestamp) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}")));

    /// <summary>The headers of a signed delivery (Chatwoot 4.12 and later).</summary>
    public static Dictionary<string, string> SignedHeaders(string body, string secret, DateTimeOffset? at = null, string? deliveryId = null)
    {
        var timestamp = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        return new Dictionary<string, string>
        {
            [ChatwootWebhook.DeliveryHeader] = deliveryId ?? Guid.NewGuid().ToString(),
            [ChatwootWebhook.TimestampHeader] = timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [ChatwootWebhook.SignatureHeader] = Signature(body, secret, timestamp),
        };
    }

    /// <summary>A delivery of raw bytes (which need not be UTF-8) signed with <paramref name="secret"/>, as a sender signing whatever it sends would sign it.</summary>
    public static async Task<HttpResponseMessage> SignedBytesAsync(HttpClient client, byte[] body, string secret, string deliveryId)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var signature = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), (byte[])[.. Encoding.UTF8.GetBytes($"{timestamp}."), .. body]));
        using var request = new HttpRequestMessage(HttpMethod.Post, Path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation(ChatwootWebhook.DeliveryHeader, deliveryId);
        request.Headers.TryAddWithoutValidation(ChatwootWebhook.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation(ChatwootWebhook.SignatureHeader, signature);
        return await client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> SignedAsync(HttpClient client, string body, string secret, DateTimeOffset? at = null, string? deliveryId = null) =>
        SendAsync(client, body, SignedHeaders(body, secret, at, deliveryId));

    public static async Task<HttpResponseMessage> SendAsync(HttpClient client, string body, IReadOnlyDictionary<string, string> headers, string? token = null)
    {
        var path = token is null ? Path : $"{Path}?token={Uri.EscapeDataString(token)}";
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await client.SendAsync(request);
    }
}
