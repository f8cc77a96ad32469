using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using DecentCloud.Testing;

namespace DecentCloud.Benchmarks;

/// <summary>
/// <c>checkout.session.completed</c> events as Stripe sends them: the <c>event</c> object of the repository's
/// fixtures.json around its <c>checkout.session</c>, completed and paid for a contract, each with an id of its own
/// (the webhook dedupes by event id, so a repeated id would be answered without a write), signed as Stripe signs.
/// </summary>
internal sealed class StripeEventSamples
{
    public const string EventType = "checkout.session.completed";

    private readonly JsonObject envelope;
    private readonly JsonObject session;
    private readonly string runTag = Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();

    private StripeEventSamples(JsonObject envelope, JsonObject session)
    {
        this.envelope = envelope;
        this.session = session;
    }

    public static StripeEventSamples Load()
    {
        var path = Path.Combine(RepositoryRoot.Path, "tests", "DecentCloud.Tests", "Contracts", "stripe", "fixtures.json");
        if (!File.Exists(path))
        {
            throw new BenchmarkException($"{path} is not there; the webhook benchmark sends its events.");
        }

        var fixtures = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new BenchmarkException($"{path} is not a JSON object.");
        return fixtures["event"] is JsonObject envelope && fixtures["checkout.session"] is JsonObject session
            ? new StripeEventSamples(envelope, session)
            : throw new BenchmarkException($"{path} has no event or checkout.session fixture.");
    }

    /// <summary>Event <paramref name="sequence"/> of this run (every id and body of a run has the same length).</summary>
    public SampleEvent Event(int sequence, DateTimeOffset created)
    {
        var tag = $"{runTag}{sequence.ToString("D7", CultureInfo.InvariantCulture)}";
        var contractId = $"ctr_bench{tag}";
        var data = session.DeepClone().AsObject();
        var sessionId = $"cs_test_bench{tag}";
        data["id"] = sessionId;
        data["status"] = "complete";
        data["payment_status"] = "paid";
        data["currency"] = "eur";
        data["amount_subtotal"] = 123456;
        data["amount_total"] = 146913;
        data["payment_intent"] = $"pi_bench{tag}";
        data["client_reference_id"] = contractId;
        data["metadata"] = new JsonObject { ["contract_id"] = contractId };
        data["customer_details"] = new JsonObject
        {
            ["address"] = new JsonObject { ["city"] = "Berlin", ["country"] = "DE", ["line1"] = "Invalidenstraße 116", ["line2"] = null, ["postal_code"] = "10115", ["state"] = null },
            ["email"] = "billing@beta.example",
            ["name"] = "Bea Buyer",
            ["phone"] = null,
            ["tax_exempt"] = "none",
            ["tax_ids"] = new JsonArray(),
            ["business_name"] = "Beta GmbH",
            ["individual_name"] = null,
        };

        var stripeEvent = envelope.DeepClone().AsObject();
        var id = $"evt_bench{tag}";
        stripeEvent["id"] = id;
        stripeEvent["type"] = EventType;
        stripeEvent["api_version"] = Stripe.StripeConfiguration.ApiVersion;
        stripeEvent["created"] = created.ToUnixTimeSeconds();
        stripeEvent["data"] = new JsonObject { ["object"] = data };
        return new SampleEvent(id, sessionId, DateTimeOffset.FromUnixTimeSeconds(created.ToUnixTimeSeconds()), stripeEvent.ToJsonString());
    }

    /// <summary>The <c>Stripe-Signature</c> header: HMAC-SHA256 of "{t}.{body}" with the endpoint secret, computed here, not by Stripe.net.</summary>
    public static string SignatureHeader(string body, string secret, DateTimeOffset at)
    {
        var timestamp = at.ToUnixTimeSeconds();
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}"));
        return $"t={timestamp},v1={Convert.ToHexString(signature).ToLowerInvariant()}";
    }
}

/// <param name="SessionId">The event's data object, the Checkout Session.</param>
/// <param name="Created">As the body carries it, to the second.</param>
internal sealed record SampleEvent(string Id, string SessionId, DateTimeOffset Created, string Body);
