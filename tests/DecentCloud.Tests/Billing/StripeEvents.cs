using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Billing;

/// <summary>
/// Stripe events as Stripe sends them: the <c>event</c> object of fixtures.json around a data object, with the API
/// version of Stripe.net 53.1.0, signed as Stripe signs (HMAC-SHA256 of "{t}.{body}" with the endpoint secret,
/// computed here independently of Stripe.net).
/// </summary>
public static class StripeEvents
{
    public const string ApiVersion = "2026-10-28.endive";

    private static readonly JsonObject Fixtures = StripeStandIn.Fixtures();

    public static string Event(string type, JsonObject dataObject, string? id = null, DateTimeOffset? created = null)
    {
        var envelope = Fixtures["event"]!.DeepClone().AsObject();
        envelope["id"] = id ?? "evt_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
        envelope["type"] = type;
        envelope["api_version"] = ApiVersion;
        envelope["created"] = (created ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        envelope["data"] = new JsonObject { ["object"] = dataObject.DeepClone() };
        return envelope.ToJsonString();
    }

    /// <summary>The charge fixture for a payment intent, refunded <paramref name="refundedMinor"/> in all.</summary>
    public static JsonObject RefundedCharge(string paymentIntentId, long amountMinor, long refundedMinor, string currency = "eur")
    {
        var charge = Fixtures["charge"]!.DeepClone().AsObject();
        charge["id"] = "ch_" + paymentIntentId[3..];
        charge["payment_intent"] = paymentIntentId;
        charge["amount"] = amountMinor;
        charge["amount_captured"] = amountMinor;
        charge["amount_refunded"] = refundedMinor;
        charge["refunded"] = refundedMinor == amountMinor;
        charge["currency"] = currency;
        charge["metadata"] = new JsonObject();
        return charge;
    }

    public static JsonObject Dispute(string paymentIntentId, string status, long amountMinor)
    {
        var dispute = Fixtures["dispute"]!.DeepClone().AsObject();
        dispute["id"] = "dp_" + paymentIntentId[3..];
        dispute["payment_intent"] = paymentIntentId;
        dispute["status"] = status;
        dispute["amount"] = amountMinor;
        dispute["metadata"] = new JsonObject();
        return dispute;
    }

    public static string SignatureHeader(string body, string secret = TestKeys.StripeWebhookSecret, DateTimeOffset? at = null)
    {
        var timestamp = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}"));
        return $"t={timestamp},v1={Convert.ToHexString(signature).ToLowerInvariant()}";
    }

    /// <summary>The header over raw bytes, which need not be UTF-8: what a sender that signs whatever it sends would send.</summary>
    public static string SignatureHeader(byte[] body, string secret = TestKeys.StripeWebhookSecret)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), (byte[])[.. Encoding.UTF8.GetBytes($"{timestamp}."), .. body]);
        return $"t={timestamp},v1={Convert.ToHexString(signature).ToLowerInvariant()}";
    }

    /// <summary>Stripe-Signature values that are not a signature: no <c>t=</c>, no <c>v1=</c>, a timestamp that is not a number, a v1 that is not hex.</summary>
    public static IReadOnlyList<string> GarbageSignatureHeaders { get; } =
    [
        "", " ", "garbage", ",,,", "=", "t=", "v1=", "t=abc,v1=00", "t=1", "v1=" + new string('a', 64), "t=12x,v1=" + new string('a', 64), "t=1,v1=not-hex",
        "t=99999999999999999999999,v1=" + new string('a', 64), "t=-5,v1=ab", "t=1,t=2,v1=3,v1=4", new string(',', 5000), "t=1,v0=" + new string('a', 64),
    ];

    public static async Task<HttpResponseMessage> DeliverAsync(HttpClient client, string body, string? signatureHeader = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/webhooks/stripe")
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.TryAddWithoutValidation("Stripe-Signature", signatureHeader ?? SignatureHeader(body));
        return await client.SendAsync(request);
    }

    /// <summary>Sends raw bytes with the given Stripe-Signature header, or none at all when it is null.</summary>
    public static async Task<HttpResponseMessage> DeliverBytesAsync(HttpClient client, byte[] body, string? signatureHeader)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/webhooks/stripe") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (signatureHeader is not null)
        {
            request.Headers.TryAddWithoutValidation("Stripe-Signature", signatureHeader);
        }

        return await client.SendAsync(request);
    }
}
