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

    public static async Task<HttpResponseMessage> DeliverAsync(HttpClient client, string body, string? signatureHeader = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/webhooks/stripe")
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.TryAddWithoutValidation("Stripe-Signature", signatureHeader ?? SignatureHeader(body));
        return await client.SendAsync(request);
    }
}
