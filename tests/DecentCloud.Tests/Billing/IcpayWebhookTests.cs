using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DecentCloud.Functions.Billing.Icpay;
using DecentCloud.Functions.Billing.StripeIntegration;
using DecentCloud.Testing;
using DecentCloud.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Time.Testing;

namespace DecentCloud.Tests.Billing;

public sealed record IcpayVector(string Name, long Now, string Header, string Body, string Expect, string Secret, int Tolerance)
{
    public bool Accepted => Expect == "accept";
}

/// <summary>ICPay's recorded signature vectors against the signature check and the webhook; refused deliveries store nothing.</summary>
public sealed class IcpayWebhookTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    public static TheoryData<string> VectorNames() => [.. Vectors().Select(v => v.Name)];

    private static List<IcpayVector> Vectors()
    {
        var path = Path.Combine(RepositoryRoot.Path, "tests", "DecentCloud.Tests", "Contracts", "icpay", "webhook_signature_vectors.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var root = document.RootElement;
        var secret = root.GetProperty("secret").GetString()!;
        var tolerance = root.GetProperty("tolerance_seconds").GetInt32();
        return root.GetProperty("cases").EnumerateArray().Select(c => new IcpayVector(
            c.GetProperty("name").GetString()!, c.GetProperty("now").GetInt64(), c.GetProperty("header").GetString()!,
            c.GetProperty("body").GetString()!, c.GetProperty("expect").GetString()!, secret, tolerance)).ToList();
    }

    private static IcpayVector Vector(string name) => Vectors().Single(v => v.Name == name);

    [Fact]
    public void The_vectors_cover_every_recorded_outcome()
    {
        var names = Vectors().Select(v => v.Name).ToHashSet();

        Assert.Equal(8, names.Count);
        Assert.Equal(2, Vectors().Count(v => v.Accepted));
        Assert.All(Vectors().Where(v => !v.Accepted), v => Assert.StartsWith("reject", v.Expect, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void The_signature_check_passes_and_fails_each_vector_as_recorded(string name)
    {
        var vector = Vector(name);

        var problem = IcpaySignature.Problem(vector.Header, Encoding.UTF8.GetBytes(vector.Body), vector.Secret, vector.Now, vector.Tolerance);

        if (vector.Accepted)
        {
            Assert.Null(problem);
        }
        else
        {
            Assert.NotNull(problem);
        }
    }

    [Fact]
    public void A_signature_made_here_independently_verifies_in_either_hex_case_and_one_changed_byte_of_the_body_does_not()
    {
        var body = Encoding.UTF8.GetBytes(Vector("valid").Body);
        var header = IcpayEvents.SignatureHeader(Vector("valid").Body, "sk_other", DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
        var upperHex = "t=1800000000,v1=" + header[(header.IndexOf("v1=", StringComparison.Ordinal) + 3)..].ToUpperInvariant();

        Assert.Null(IcpaySignature.Problem(header, body, "sk_other", 1_800_000_000, 300));
        Assert.Null(IcpaySignature.Problem(upperHex, body, "sk_other", 1_800_000_000, 300));
        Assert.Equal(header, IcpaySignature.Header(1_800_000_000, body, "sk_other"));
        body[^2] ^= 1;
        Assert.NotNull(IcpaySignature.Problem(header, body, "sk_other", 1_800_000_000, 300));
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("t=")]
    [InlineData("v1=")]
    [InlineData("t=abc,v1=00")]
    [InlineData("t=+1767225600,v1=62ed20eaa6e05f37654ce80517ea55f6801668b92dadde822a1b883cabd836f0")]
    [InlineData("t=1767225600,t=1767225600,v1=62ed20eaa6e05f37654ce80517ea55f6801668b92dadde822a1b883cabd836f0")]
    [InlineData("t=1767225600,v1=62ed20")]
    [InlineData("t=1767225600,v1=zzed20eaa6e05f37654ce80517ea55f6801668b92dadde822a1b883cabd836f0")]
    [InlineData("t=99999999999999999999,v1=62ed20eaa6e05f37654ce80517ea55f6801668b92dadde822a1b883cabd836f0")]
    public void A_garbled_header_is_refused(string header)
    {
        var vector = Vector("valid");

        Assert.NotNull(IcpaySignature.Problem(header, Encoding.UTF8.GetBytes(vector.Body), vector.Secret, vector.Now, vector.Tolerance));
    }

    [Fact]
    public void One_matching_v1_among_several_is_enough_as_when_a_key_is_rotated()
    {
        var vector = Vector("valid");
        var header = vector.Header.Replace("v1=", "v1=" + new string('0', 64) + ",v1=", StringComparison.Ordinal);

        Assert.Null(IcpaySignature.Problem(header, Encoding.UTF8.GetBytes(vector.Body), vector.Secret, vector.Now, vector.Tolerance));
    }

    /// <summary>The webhook function run in this process with the app's services and a clock standing at the vector's own time.</summary>
    private static async Task<(int Status, string? Check)> DeliverAtAsync(IServiceProvider services, DateTimeOffset now, string body, string header)
    {
        var webhook = ActivatorUtilities.CreateInstance<IcpayWebhook>(services, (TimeProvider)new FakeTimeProvider(now));
        var context = new DefaultHttpContext { RequestServices = services };
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = bytes.Length;
        context.Request.Body = new MemoryStream(bytes);
        context.Request.Headers[IcpaySignature.HeaderName] = header;
        var answer = (await webhook.Run(context.Request, CancellationToken.None)).Result;
        return answer switch
        {
            Ok<WebhookReceipt> => (StatusCodes.Status200OK, null),
            ProblemHttpResult problem => (problem.StatusCode, problem.ProblemDetails.Extensions.TryGetValue("check", out var check) ? check?.ToString() : null),
            _ => throw new InvalidOperationException($"The webhook answered {answer.GetType().Name}."),
        };
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public async Task The_webhook_accepts_and_refuses_each_vector_as_recorded_and_stores_nothing_it_refuses(string name)
    {
        var vector = Vector(name);
        var settings = TestFunctionApp.Settings(storage.ConnectionString, TestFunctionApp.UniqueHostId());
        settings["ICPAY_WEBHOOK_SECRET"] = vector.Secret;
        await using var services = TestFunctionApp.AppServices(settings);
        var events = services.GetRequiredService<IcpayEventStore>();
        var eventId = JsonNode.Parse(vector.Body)!["id"]!.GetValue<string>();
        var table = new Azure.Data.Tables.TableClient(storage.ConnectionString, IcpayEventStore.TableName);
        await table.CreateIfNotExistsAsync();
        await table.DeleteEntityAsync(eventId, IcpayEventStore.EventRowKey);

        var (status, check) = await DeliverAtAsync(services, DateTimeOffset.FromUnixTimeSeconds(vector.Now), vector.Body, vector.Header);

        if (vector.Accepted)
        {
            Assert.Equal(StatusCodes.Status200OK, status);
            var recorded = (await events.FindAsync(eventId, CancellationToken.None))!;
            Assert.Equal((vector.Body, "payment.completed", IcpayEventStatus.Received), (recorded.Body, recorded.Type, recorded.Status));
        }
        else
        {
            Assert.Equal((StatusCodes.Status400BadRequest, "signature"), (status, check));
            Assert.Null(await events.FindAsync(eventId, CancellationToken.None));
        }
    }

    [Fact]
    public async Task Tampered_old_wrongly_signed_and_unsigned_deliveries_are_refused_and_store_nothing()
    {
        await using var app = await TestFunctionApp.StartAsync(storage.ConnectionString, settings: new Dictionary<string, string?> { ["ICPAY_WEBHOOK_SECRET"] = IcpayEvents.Secret });
        var paymentId = IcpayEvents.NewPaymentId();
        var body = IcpayEvents.Payment("payment.completed", paymentId, new JsonObject { [IcpayMetadata.ContractIdKey] = "00ff" }, "17850000", eventId: "evt_refused_" + paymentId);

        var responses = new[]
        {
            await IcpayEvents.DeliverAsync(app.Client, body.Replace("17850000", "17850001", StringComparison.Ordinal), IcpayEvents.SignatureHeader(body)),
            await IcpayEvents.DeliverAsync(app.Client, body, IcpayEvents.SignatureHeader(body, at: DateTimeOffset.UtcNow.AddSeconds(-301))),
            await IcpayEvents.DeliverAsync(app.Client, body, IcpayEvents.SignatureHeader(body, at: DateTimeOffset.UtcNow.AddMinutes(6))),
            await IcpayEvents.DeliverAsync(app.Client, body, IcpayEvents.SignatureHeader(body, secret: "sk_test_some_other_account")),
            await IcpayEvents.DeliverAsync(app.Client, body, " "),
        };

        foreach (var response in responses)
        {
            var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
            Assert.Equal("signature", problem.GetProperty("check").GetString());
        }

        Assert.Null(await app.Services.GetRequiredService<IcpayEventStore>().FindAsync("evt_refused_" + paymentId, CancellationToken.None));
        Assert.Equal(responses.Length, app.Logs.Entries.Count(e => e.EventId.Id == 8701));
        Assert.DoesNotContain(app.Logs.Entries, e => e.Message.Contains(IcpayEvents.Secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_signed_body_that_is_not_an_icpay_event_is_refused_400_and_stores_nothing()
    {
        await using var app = await TestFunctionApp.StartAsync(storage.ConnectionString, settings: new Dictionary<string, string?> { ["ICPAY_WEBHOOK_SECRET"] = IcpayEvents.Secret });
        string[] bodies = ["[]", "{\"id\":\"evt_x\"}", "{\"id\":\"evt/slash\",\"type\":\"payment.completed\",\"created\":1,\"data\":{\"object\":{}}}", "{\"id\":\"evt_y\",\"type\":\"t\",\"created\":\"1\",\"data\":{\"object\":{}}}", "not json", "{\"a\":1} {\"b\":2}"];

        foreach (var body in bodies)
        {
            var problem = await ApiAssert.ProblemAsync(await IcpayEvents.DeliverAsync(app.Client, body), HttpStatusCode.BadRequest);
            Assert.Equal("body", problem.GetProperty("check").GetString());
        }

        Assert.Null(await app.Services.GetRequiredService<IcpayEventStore>().FindAsync("evt_x", CancellationToken.None));
        Assert.Null(await app.Services.GetRequiredService<IcpayEventStore>().FindAsync("evt_y", CancellationToken.None));
    }

    [Fact]
    public async Task Without_its_secret_icpay_answers_503_and_stores_nothing()
    {
        await using var app = await TestFunctionApp.StartAsync(storage.ConnectionString);
        var body = IcpayEvents.Payment("payment.completed", IcpayEvents.NewPaymentId(), new JsonObject(), "1", eventId: "evt_unconfigured_1");

        await ApiAssert.ProblemAsync(await IcpayEvents.DeliverAsync(app.Client, body), HttpStatusCode.ServiceUnavailable);

        Assert.Null(await app.Services.GetRequiredService<IcpayEventStore>().FindAsync("evt_unconfigured_1", CancellationToken.None));
    }
}
