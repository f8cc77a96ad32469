using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using DecentCloud.Functions.Billing.StripeIntegration;
using DecentCloud.Functions.Platform.Queues;
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
    /// An app on an emptied event queue, with the event processor switched off (<c>AzureWebJobs.ProcessStripeEvent.Disabled</c>),
    /// so what the webhook wrote stays as written.
    /// </summary>
    private async Task<TestFunctionApp> StillAppAsync(string secret, string eventId)
    {
        await EmptiedAsync(eventId);
        return await TestFunctionApp.StartAsync(
            storage.ConnectionString,
            settings: new Dictionary<string, string?> { ["STRIPE_WEBHOOK_SECRET"] = secret, ["AzureWebJobs.ProcessStripeEvent.Disabled"] = "true" });
    }

    private async Task EmptiedAsync(string eventId)
    {
        var queue = new QueueClient(storage.ConnectionString, StripeWebhook.QueueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await queue.CreateIfNotExistsAsync();
        await queue.ClearMessagesAsync();
        var table = new TableClient(storage.ConnectionString, StripeEventStore.TableName);
        await table.CreateIfNotExistsAsync();
        await table.DeleteEntityAsync(eventId, StripeEventStore.EventRowKey);
    }

    /// <summary>
    /// The webhook function run in this process with the app's services and a clock that stands still at <paramref name="now"/>
    /// (a vector's own time, which no running app's clock shows): its answer's status and, for a refusal, the failed check.
    /// </summary>
    private static async Task<(int Status, string? Check)> DeliverAtAsync(IServiceProvider services, DateTimeOffset now, string body, string signatureHeader)
    {
        var webhook = ActivatorUtilities.CreateInstance<StripeWebhook>(services, (TimeProvider)new FakeTimeProvider(now));
        var context = new DefaultHttpContext { RequestServices = services };
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = bytes.Length;
        context.Request.Body = new MemoryStream(bytes);
        context.Request.Headers["Stripe-Signature"] = signatureHeader;
        var answer = (await webhook.Run(context.Request, CancellationToken.None)).Result;
        return answer switch
        {
            Ok<WebhookReceipt> => (StatusCodes.Status200OK, null),
            ProblemHttpResult problem => (problem.StatusCode, problem.ProblemDetails.Extensions.TryGetValue("check", out var check) ? check?.ToString() : null),
            _ => throw new InvalidOperationException($"The webhook answered {answer.GetType().Name}."),
        };
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
        await EmptiedAsync(eventId);
        var settings = TestFunctionApp.Settings(storage.ConnectionString, TestFunctionApp.UniqueHostId());
        settings["STRIPE_WEBHOOK_SECRET"] = vector.Secret;
        await using var services = TestFunctionApp.AppServices(settings);
        var body = name == "body_modified" ? vector.Payload.Replace("2000", "2001", StringComparison.Ordinal) : vector.Payload;
        var events = services.GetRequiredService<StripeEventStore>();

        var (status, check) = await DeliverAtAsync(services, DateTimeOffset.FromUnixTimeSeconds(vector.UtcNow), body, vector.StripeSignatureHeader);

        if (SignatureValid(vector) && name != "body_modified")
        {
            Assert.Equal(StatusCodes.Status200OK, status);
            // The message carries the body exactly as signed; the processor (not running here) records it.
            var queued = Assert.Single(await QueuedAsync());
            Assert.Equal((eventId, vector.Payload), (queued.EventId, queued.Body));
        }
        else
        {
            Assert.Equal((StatusCodes.Status400BadRequest, "signature"), (status, check));
            Assert.Null(await events.FindAsync(eventId, CancellationToken.None));
            Assert.Empty(await QueuedAsync());
        }
    }

    [Fact]
    public async Task Stale_wrongly_signed_and_unsigned_deliveries_are_refused_with_no_row_and_no_queue_message()
    {
        await using var app = await StillAppAsync(TestKeys.StripeWebhookSecret, "evt_refused_1");
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
    public async Task A_missing_or_garbage_signature_header_is_refused_400_with_no_row_and_no_queue_message()
    {
        await using var app = await StillAppAsync(TestKeys.StripeWebhookSecret, "evt_garbage_signature_1");
        var body = Encoding.UTF8.GetBytes(StripeEvents.Event("customer.created", StripeStandIn.Fixtures()["customer"]!.AsObject(), id: "evt_garbage_signature_1"));
        string?[] headers = [null, .. StripeEvents.GarbageSignatureHeaders];

        foreach (var header in headers)
        {
            var problem = await ApiAssert.ProblemAsync(await StripeEvents.DeliverBytesAsync(app.Client, body, header), HttpStatusCode.BadRequest);
            Assert.Equal("signature", problem.GetProperty("check").GetString());
        }

        Assert.Null(await app.Services.GetRequiredService<StripeEventStore>().FindAsync("evt_garbage_signature_1", CancellationToken.None));
        Assert.Empty(await QueuedAsync());
        Assert.Equal(headers.Length, app.Logs.Entries.Count(e => e.EventId.Id == 8010 && e.Level == LogLevel.Warning));
        Assert.DoesNotContain(app.Logs.Entries, e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task An_event_larger_than_a_row_holds_is_refused_413_with_no_row_and_no_queue_message()
    {
        await using var app = await StillAppAsync(TestKeys.StripeWebhookSecret, "evt_too_large_1");
        var customer = StripeStandIn.Fixtures()["customer"]!.AsObject();
        customer["description"] = new string('x', StripeEventStore.MaxBodyBytes);
        var body = StripeEvents.Event("customer.updated", customer, id: "evt_too_large_1");

        var response = await StripeEvents.DeliverAsync(app.Client, body);

        Assert.Equal("size", (await ApiAssert.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge)).GetProperty("check").GetString());
        Assert.Null(await app.Services.GetRequiredService<StripeEventStore>().FindAsync("evt_too_large_1", CancellationToken.None));
        Assert.Empty(await QueuedAsync());
    }

    /// <summary>Signed bodies that are not Stripe events: wrong JSON types at the top, values no row can hold, text that is not UTF-8 or not one JSON document.</summary>
    private static readonly string[] NotEvents =
    [
        "id a number", "id empty", "type missing", "created a string", "created before year 1", "created a fraction", "data an array", "data.object a string",
        "data.previous_attributes a number", "livemode a string", "pending_webhooks a string", "request a number", "api_version a number", "object an array",
        "id of 300 characters", "id holding a slash", "type of 1000 characters", "lone surrogate in a value", "lone surrogate in a property name",
        "invalid UTF-8 in a value", "invalid UTF-8 in a property name", "two documents", "10000 nested arrays",
    ];

    [Fact]
    public async Task A_signed_body_that_is_not_a_stripe_event_is_refused_400_with_no_row_and_no_queue_message()
    {
        await using var app = await StillAppAsync(TestKeys.StripeWebhookSecret, "evt_not_an_event");
        var events = app.Services.GetRequiredService<StripeEventStore>();
        foreach (var name in NotEvents)
        {
            var eventId = $"evt_not_an_event_{Guid.NewGuid():N}";
            var body = NotAnEvent(name, eventId);

            var response = await StripeEvents.DeliverBytesAsync(app.Client, body, StripeEvents.SignatureHeader(body));

            var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
            Assert.True("body" == problem.GetProperty("check").GetString(), $"{name}: {problem}");
            Assert.Null(await events.FindAsync(eventId, CancellationToken.None));
        }

        Assert.Empty(await QueuedAsync());
        Assert.Equal(NotEvents.Length, app.Logs.Entries.Count(e => e.EventId.Id == 8010 && e.Level == LogLevel.Warning));
        Assert.DoesNotContain(app.Logs.Entries, e => e.Level >= LogLevel.Error);
    }

    private static byte[] NotAnEvent(string name, string eventId)
    {
        var good = StripeEvents.Event("checkout.session.completed", StripeStandIn.Fixtures()["checkout.session"]!.AsObject(), id: eventId);
        string With(Action<JsonObject> change)
        {
            var body = JsonNode.Parse(good)!.AsObject();
            change(body);
            return body.ToJsonString();
        }

        var text = name switch
        {
            "id a number" => With(b => b["id"] = 42),
            "id empty" => With(b => b["id"] = " "),
            "type missing" => With(b => b.Remove("type")),
            "created a string" => With(b => b["created"] = "yesterday"),
            "created before year 1" => With(b => b["created"] = long.MinValue),
            "created a fraction" => With(b => b["created"] = 1.5),
            "data an array" => With(b => b["data"] = new JsonArray()),
            "data.object a string" => With(b => b["data"]!["object"] = "cs_1"),
            "data.previous_attributes a number" => With(b => b["data"]!["previous_attributes"] = 5),
            "livemode a string" => With(b => b["livemode"] = "no"),
            "pending_webhooks a string" => With(b => b["pending_webhooks"] = "one"),
            "request a number" => With(b => b["request"] = 7),
            "api_version a number" => With(b => b["api_version"] = 2026),
            "object an array" => With(b => b["object"] = new JsonArray()),
            "id of 300 characters" => With(b => b["id"] = eventId + new string('x', 300)),
            "id holding a slash" => With(b => b["id"] = eventId + "/x"),
            "type of 1000 characters" => With(b => b["type"] = new string('t', 1000)),
            "lone surrogate in a value" => good.Replace("\"mode\":\"payment\"", "\"mode\":\"pay\\ud800\"", StringComparison.Ordinal),
            "lone surrogate in a property name" => good.Replace("\"mode\":", "\"mo\\udc00de\":", StringComparison.Ordinal),
            "two documents" => good + "\n{}",
            "10000 nested arrays" => new string('[', 10_000) + new string(']', 10_000),
            _ => null,
        };
        if (text is not null)
        {
            Assert.NotEqual(good, text);
            return Encoding.UTF8.GetBytes(text);
        }

        var bytes = Encoding.UTF8.GetBytes(good);
        var at = name == "invalid UTF-8 in a value" ? good.IndexOf("payment", StringComparison.Ordinal) : good.IndexOf("\"mode\"", StringComparison.Ordinal) + 2;
        bytes[at] = 0xff;
        return bytes;
    }

    /// <summary>Signed events whose fields below the envelope have types Stripe.net's model cannot hold.</summary>
    [Theory]
    [InlineData("amount_total", "\"a lot\"")]
    [InlineData("metadata", "5")]
    public async Task A_signed_event_stripe_net_cannot_read_is_acknowledged_marked_unreadable_once_and_not_retried(string field, string value)
    {
        await using var app = await TestFunctionApp.StartAsync(storage.ConnectionString);
        var session = StripeStandIn.Fixtures()["checkout.session"]!.AsObject();
        session[field] = JsonNode.Parse(value);
        var eventId = $"evt_unreadable_{field}";
        var body = StripeEvents.Event("checkout.session.completed", session, id: eventId);
        var events = app.Services.GetRequiredService<StripeEventStore>();

        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, body)).StatusCode);

        await Eventually.HoldsAsync(async () => (await events.FindAsync(eventId, CancellationToken.None))?.Status == StripeEventStatus.Unreadable, "the event is marked unreadable");
        var queue = new QueueClient(storage.ConnectionString, StripeWebhook.QueueName);
        await Eventually.HoldsAsync(async () => (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0, "its message is settled");
        var record = (await events.FindAsync(eventId, CancellationToken.None))!;
        Assert.StartsWith("Stripe.net cannot read the event", record.Row.GetString("Outcome"), StringComparison.Ordinal);
        Assert.Equal(body, record.Body);
        var logged = Assert.Single(app.Logs.Entries, e => e.EventId.Id == 8200);
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.Contains(eventId, logged.Message, StringComparison.Ordinal);
        // The worker reports the exception whole (type, message, inner exceptions, stack) to the host, which logs it.
        var reported = logged.Exception!.ToString();
        Assert.Contains(typeof(UnreadableStripeEventException).FullName!, reported, StringComparison.Ordinal);
        Assert.Contains("JsonException", reported, StringComparison.Ordinal);
        Assert.DoesNotContain(app.Logs.Entries, e => e.EventId.Id is 2103 or 2104);
        var poison = new QueueClient(storage.ConnectionString, StripeWebhook.QueueName + PoisonQueueName.Suffix);
        Assert.False(await poison.ExistsAsync() && (await poison.GetPropertiesAsync()).Value.ApproximateMessagesCount > 0);
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
        Assert.DoesNotContain(app.Logs.Entries, e => e.EventId.Id == 2103);
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

    [Fact]
    public async Task An_event_that_cannot_be_queued_is_answered_with_a_500_problem_so_stripe_sends_it_again()
    {
        // The worker would otherwise answer the failed invocation with an empty 200, and Stripe would not send the event again.
        await EmptiedAsync("evt_unqueued_1");
        var (queues, throughProxy) = await StorageProxy.StartAsync(storage.ConnectionString, "QueueEndpoint");
        await using var proxy = queues;
        // Only the webhook's put (a message that never expires) is refused; the queue's creation and the listeners' reads pass.
        queues.Fails = request => request.Contains($"/{StripeWebhook.QueueName}/messages?messagettl=", StringComparison.Ordinal);
        await using var app = await TestFunctionApp.StartAsync(throughProxy, settings: new Dictionary<string, string?> { ["AzureWebJobs.ProcessStripeEvent.Disabled"] = "true" });
        var body = StripeEvents.Event("customer.created", StripeStandIn.Fixtures()["customer"]!.AsObject(), id: "evt_unqueued_1");

        var problem = await ApiAssert.ProblemAsync(await StripeEvents.DeliverAsync(app.Client, body), HttpStatusCode.InternalServerError);

        var traceId = problem.GetProperty("traceId").GetString();
        Assert.False(string.IsNullOrEmpty(traceId));
        Assert.DoesNotContain(StripeWebhook.QueueName, problem.GetRawText(), StringComparison.Ordinal);
        await Eventually.HoldsAsync(
            () => app.Logs.Entries.Any(e => e.TraceId == traceId && e.Exception?.ToString().Contains($"sending a message to queue {StripeWebhook.QueueName}", StringComparison.Ordinal) == true),
            "the worker logged the exception whole under the answer's trace id");
        Assert.Empty(await QueuedAsync());
        Assert.Null(await app.Services.GetRequiredService<StripeEventStore>().FindAsync("evt_unqueued_1", CancellationToken.None));

        // Stripe sends it again once storage is back, and it is queued.
        queues.Fails = null;
        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, body)).StatusCode);
        Assert.Equal("evt_unqueued_1", Assert.Single(await QueuedAsync()).EventId);
    }
}
