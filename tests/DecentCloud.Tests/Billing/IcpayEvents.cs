using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace DecentCloud.Tests.Billing;

/// <summary>
/// ICPay events as ICPay sends them (the envelope and flat payment object of docs/icpay.md), signed as ICPay signs:
/// HMAC-SHA256 of "{t}.{body}" keyed with the secret, computed here independently of the app's code.
/// </summary>
public static class IcpayEvents
{
    public const string Secret = "sk_test_icpay_secret_for_unit_tests";

    /// <summary>A <c>payment.*</c> event around an ICPay payment object.</summary>
    /// <param name="metadata">The payment's metadata: for a real payment, what the checkout answered, passed on as it is.</param>
    public static string Payment(
        string type,
        string paymentId,
        JsonObject metadata,
        string amount,
        string status = "completed",
        string token = "EURC",
        string network = "evm",
        string? requestedAmount = null,
        string? eventId = null,
        DateTimeOffset? created = null)
    {
        var at = created ?? DateTimeOffset.UtcNow;
        var payment = new JsonObject
        {
            ["id"] = paymentId,
            ["accountId"] = "acc_test",
            ["paymentIntentId"] = "pi_" + paymentId[4..],
            ["transactionId"] = "tx_" + paymentId[4..],
            ["canisterTxId"] = 42,
            ["status"] = status,
            ["amount"] = amount,
            ["ledgerCanisterId"] = "0x1234",
            ["ledgerTxId"] = "0xabc" + paymentId[4..],
            ["metadata"] = metadata.DeepClone(),
            ["requestedAmount"] = requestedAmount ?? amount,
            ["paidAmount"] = amount,
            ["createdAt"] = at.ToString("O"),
            ["network"] = network,
            ["token"] = token,
            ["intent"] = new JsonObject { ["id"] = "pi_" + paymentId[4..], ["intentCode"] = 123456, ["amount"] = requestedAmount ?? amount, ["metadata"] = metadata.DeepClone() },
        };
        return Envelope(type, payment, eventId, at);
    }

    public static string Envelope(string type, JsonObject dataObject, string? eventId = null, DateTimeOffset? created = null) => new JsonObject
    {
        ["id"] = eventId ?? "evt_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant(),
        ["object"] = "event",
        ["api_version"] = "2025-08-11",
        ["created"] = (created ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds(),
        ["data"] = new JsonObject { ["object"] = dataObject },
        ["livemode"] = false,
        ["pending_webhooks"] = 1,
        ["request"] = new JsonObject { ["id"] = "req_test", ["idempotency_key"] = null },
        ["type"] = type,
    }.ToJsonString();

    public static string NewPaymentId() => "pay_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(10)).ToLowerInvariant();

    public static string SignatureHeader(string body, string secret = Secret, DateTimeOffset? at = null)
    {
        var timestamp = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}"));
        return $"t={timestamp},v1={Convert.ToHexString(signature).ToLowerInvariant()}";
    }

    public static async Task<HttpResponseMessage> DeliverAsync(HttpClient client, string body, string? signatureHeader = null)
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/webhooks/icpay") { Content = content };
        request.Headers.TryAddWithoutValidation("X-ICPay-Signature", signatureHeader ?? SignatureHeader(body));
        return await client.SendAsync(request);
    }
}
