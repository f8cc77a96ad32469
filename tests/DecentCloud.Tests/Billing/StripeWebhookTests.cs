using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using DecentCloud.Functions.Billing.StripeIntegration;
using DecentCloud.Testing;
using DecentCloud.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Stripe;

namespace DecentCloud.Tests.Billing;

public sealed record SignatureVector(string Name, string Payload, string StripeSignatureHeader, string Secret, long UtcNow, long Tolerance, string Expect);

/// <summary>The published Stripe signature vectors, run against Stripe.net itself and against the webhook endpoint.</summary>
public sealed class StripeWebhookTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    public static TheoryData<string> VectorNames() => [.. Vectors().Select(v => v.Name)];

    private static List<SignatureVector> Vectors()
    {
        var path = Path.Combine(RepositoryRoot.Path, "tests", "DecentCloud.Tests", "Contracts", "stripe", "webhook_signature_vectors.json");
        using var document = JsonDocument.Parse(System.IO.File.ReadAllText(path));
        return document.RootElement.GetProperty("cases").EnumerateArray().Select(c => new SignatureVector(
            c.GetProperty("name").GetString()!, c.GetProperty("payload").GetString()!, c.GetProperty("stripe_signature_header").GetString()!,
            c.GetProperty("secret").GetString()!, c.GetProperty("utc_now").GetInt64(), c.GetProperty("tolerance").GetInt64(), c.GetProperty("expect").GetString()!)).ToList();
    }

    private static SignatureVector Vector(string name) => Vectors().Single(v => v.Name == name);

    /// <summary>What the recorded outcome says of the signature: the vectors name a StripeException for every refusal.</summary>
    private static bool SignatureValid(SignatureVector vector) =>
        !vector.Expect.StartsWith("StripeException", StringComparison.Ordinal) || vector.Name == "api_version_other_train";

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Stripe_net_verifies_each_vector_as_recorded(string name)
    {
        var vector = Vector(name);

        var verify = () => EventUtility.ValidateSignature(vector.Payload, vector.StripeSignatureHeader, vector.Secret, vector.Tolerance, vector.UtcNow);

        if (SignatureValid(vector))
        {
            verify();
        }
        else
        {
            Assert.Throws<StripeException>(verify);
        }
    }

    /// <summary>
    /// An app whose clock stands still at <paramref name="now"/> (the vectors' own time), on an emptied event queue, with
    /// the event processor switched off (<c>AzureWebJobs.ProcessStripeEvent.Disabled</c>), so what the webhook wrote stays as written.
    /// </summary>
    private async Task<TestFunctionApp> StillAppAsync(DateTimeOffset now, string secret, string eventId)
    {
        var queue = new QueueClient(storage.ConnectionString, StripeWebhook.QueueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await queue.CreateIfNotExistsAsync();
        await queue.ClearMessagesAsync();
        var table = new TableClient(storage.ConnectionString, StripeEventStore.TableName);
        await table.CreateIfNotExistsAsync();
        await table.DeleteEntityAsync(eventId, StripeEventStore.EventRowKey);
        return await TestFunctionApp.StartAsync(storage.ConnectionString, configure: builder => builder.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(now)),
            settings: new Dictionary<string, string?> { ["STRIPE_WEBHOOK_SECRET"] = secret, ["AzureWebJobs.ProcessStripeEvent.Disabled"] = "true" });
    }

    private async Task<List<StripeEventMessage>> QueuedAsync()
    {
        var queue = new QueueClient(storage.ConnectionString, StripeWebhook.QueueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var peeked = (await queue.PeekMessagesAsync(32)).Value;
        return peeked.Select(m => m.Body.ToObjectFromJson<StripeEventMessage>(new JsonSerializerOptions(JsonSerializerDefaults.Web))!).ToList();
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public async Task The_webhook_accepts_and_refuses_each_vector_as_recorded_and_stores_nothing_it_refuses(string name)
    {
        var vector = Vector(name);
        var eventId = JsonDocument.Parse(vector.Payload).RootElement.GetProperty("id").GetString()!;
        await using var app = await StillAppAsync(DateTimeOffset.FromUnixTimeSeconds(vector.UtcNow), vector.Secret, eventId);
        var body = name == "body_modified" ? vector.Payload.Replace("2000", "2001", StringComparison.Ordinal) : vector.Payload;
        var events = app.Services.GetRequiredService<StripeEventStore>();

        var response = await StripeEvents.DeliverAsync(app.Client, body, vector.StripeSignatureHeader);

        if (SignatureValid(vector) && name != "body_modified")
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            // The message carries the body exactly as signed; the processor records it (switched off here).
            var queued = Assert.Single(await QueuedAsync());
            Assert.Equal((eventId, vector.Payload), (queued.EventId, queued.Body));
        }
        else
        {
            var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
            Assert.Equal("signature", problem.GetProperty("check").GetString());
            Assert.Null(await events.FindAsync(eventId, CancellationToken.None));
            Assert.Empty(await QueuedAsync());
        }

        Assert.DoesNotContain(app.Logs.Entries, e => e.Message.Contains(vector.Secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stale_wrongly_signed_and_unsigned_deliveries_are_refused_with_no_row_and_no_queue_message()
    {
        await using var app = await StillAppAsync(DateTimeOffset.UtcNow, TestKeys.StripeWebhookSecret, "evt_refused_1");
        var body = StripeEvents.Event("checkout.session.completed", StripeStandIn.Fixtures()["checkout.session"]!.AsObject(), id: "evt_refused_1");

        var stale = await StripeEvents.DeliverAsync(app.Client, body, StripeEvents.SignatureHeader(body, at: DateTimeOffset.UtcNow.AddMinutes(-6)));
        var wrongSecret = await StripeEvents.DeliverAsync(app.Client, body, StripeEvents.SignatureHeader(body, secret: "whsec_other"));
        var unsigned = await StripeEvents.DeliverAsync(app.Client, body, "");
        var tampered = await StripeEvents.DeliverAsync(app.Client, body.Replace("\"mode\":\"payment\"", "\"mode\":\"setup\"", StringComparison.Ordinal), StripeEvents.SignatureHeader(body));

        foreach (var response in new[] { stale, wrongSecret, unsigned, tampered })
        {
            await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        }

        Assert.Null(await app.Services.GetRequiredService<StripeEventStore>().FindAsync("evt_refused_1", CancellationToken.None));
        Assert.Empty(await QueuedAsync());
        Assert.Equal(4, app.Logs.Entries.Count(e => e.EventId.Id == 8010));
    }

    [Fact]
    public async Task An_unhandled_event_type_is_acknowledged_recorded_and_marked_ignored_and_its_redelivery_is_skipped()
    {
        await using var app = await TestFunctionApp.StartAsync(storage.ConnectionString);
        var body = StripeEvents.Event("customer.created", StripeStandIn.Fixtures()["customer"]!.AsObject(), id: "evt_unhandled_1");

        var events = app.Services.GetRequiredService<StripeEventStore>();

        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, body)).StatusCode);
        await Eventually.HoldsAsync(async () => (await events.FindAsync("evt_unhandled_1", CancellationToken.None))?.Status == StripeEventStatus.Ignored, "the event is marked ignored");
        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, body)).StatusCode);
        await Eventually.HoldsAsync(() => app.Logs.Entries.Any(e => e.EventId.Id == 8014 && e.Message.Contains("evt_unhandled_1", StringComparison.Ordinal)), "the redelivery is recognised");

        var record = (await events.FindAsync("evt_unhandled_1", CancellationToken.None))!;
        Assert.Equal("customer.created is not handled", record.Row.GetString("Outcome"));
        Assert.Equal(body, record.Body);
        Assert.Single(app.Logs.Entries, e => e.EventId.Id == 8012 && e.Message.Contains("evt_unhandled_1", StringComparison.Ordinal));
        Assert.DoesNotContain(app.Logs.Entries, e => e.EventId.Id == 2003);
    }

    [Fact]
    public async Task An_event_of_another_api_version_is_processed_with_a_warning()
    {
        await using var app = await TestFunctionApp.StartAsync(storage.ConnectionString);
        var body = StripeEvents.Event("customer.created", StripeStandIn.Fixtures()["customer"]!.AsObject(), id: "evt_dahlia_1").Replace(StripeEvents.ApiVersion, "2026-07-29.dahlia", StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, body)).StatusCode);

        await Eventually.HoldsAsync(() => app.Logs.Entries.Any(e => e.EventId.Id == 8013 && e.Message.Contains("2026-07-29.dahlia", StringComparison.Ordinal)), "the version warning is logged");
    }

    [Fact]
    public async Task A_large_event_body_is_kept_whole_in_its_row()
    {
        await using var app = await TestFunctionApp.StartAsync(storage.ConnectionString);
        var customer = StripeStandIn.Fixtures()["customer"]!.AsObject();
        customer["description"] = new string('x', 150_000);
        var body = StripeEvents.Event("customer.updated", customer, id: "evt_large_1");

        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, body)).StatusCode);

        var events = app.Services.GetRequiredService<StripeEventStore>();
        Assert.Equal(body, (await events.FindAsync("evt_large_1", CancellationToken.None))!.Body);
        await Eventually.HoldsAsync(async () => (await events.FindAsync("evt_large_1", CancellationToken.None))?.Status == StripeEventStatus.Ignored, "the large event was processed from its row");
    }
}
