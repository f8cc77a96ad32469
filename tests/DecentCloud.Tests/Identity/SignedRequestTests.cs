using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Microsoft.Azure.Functions.Worker;
using DecentCloud.Functions.Identity;
using DecentCloud.Shared.Signing;
using DecentCloud.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace DecentCloud.Tests.Identity;

public sealed record SignedEcho(string PublicKey, string Body);

public sealed record Order(string OfferingId, int Hours);

/// <summary>The signature check, run by the worker middleware, in front of the test functions of tests/DecentCloud.Functions.TestApp.</summary>
public sealed class SignedRequestTests(TestAppFixture fixture) : IClassFixture<TestAppFixture>
{
    private const string EchoPath = "/api/v1/test/signed";
    private readonly Ed25519phKey key = Ed25519phKey.Generate();
    private readonly TestFunctionApp app = fixture.App;

    private TableClient Nonces => app.Services.GetRequiredService<NonceStore>().Table;

    private HttpClient SigningClient(TimeProvider clock) =>
        new(new SigningHandler(key, clock, new SocketsHttpHandler())) { BaseAddress = app.Client.BaseAddress };

    /// <summary>Signs <paramref name="signedTarget"/> and <paramref name="signedBody"/>, then sends what is given (by default the same).</summary>
    private static HttpRequestMessage Signed(
        Ed25519phKey signer,
        HttpMethod method,
        string signedTarget,
        string signedBody = "",
        string? sentTarget = null,
        string? sentBody = null,
        Guid? nonce = null,
        DateTimeOffset? at = null)
    {
        var headers = RequestSigner.CreateHeaders(signer, at ?? DateTimeOffset.UtcNow, nonce ?? Guid.NewGuid(), method.Method, signedTarget, Encoding.UTF8.GetBytes(signedBody));
        var request = new HttpRequestMessage(method, (sentTarget ?? signedTarget).TrimStart('/'));
        if ((sentBody ?? signedBody).Length > 0)
        {
            request.Content = new StringContent(sentBody ?? signedBody, Encoding.UTF8, "application/json");
        }

        headers.ApplyTo(request.Headers);
        return request;
    }

    private async Task<bool> NonceRecordedAsync(string publicKeyHex, Guid nonce)
    {
        try
        {
            var row = await Nonces.GetEntityIfExistsAsync<TableEntity>(publicKeyHex, NonceStore.RowKey(nonce));
            return row.HasValue;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return false;
        }
    }

    private static async Task<JsonElement> AssertRefusedAsync(HttpResponseMessage response, string check, params string[] notEchoed)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        var problem = JsonSerializer.Deserialize<JsonElement>(text);
        Assert.Equal(401, problem.GetProperty("status").GetInt32());
        Assert.Equal(check, problem.GetProperty("check").GetString());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("traceId").GetString()));
        foreach (var value in notEchoed)
        {
            Assert.DoesNotContain(value, text, StringComparison.OrdinalIgnoreCase);
        }

        return problem;
    }

    [Fact]
    public async Task A_signed_get_with_a_query_runs_the_function_which_sees_the_callers_key()
    {
        using var client = SigningClient(TimeProvider.System);

        var response = await client.GetAsync("api/v1/test/signed?country=DE&page=2");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echo = await response.Content.ReadFromJsonAsync<SignedEcho>();
        Assert.Equal(key.PublicKeyHex, echo!.PublicKey);
        Assert.Equal("", echo.Body);
    }

    [Fact]
    public async Task A_signed_post_runs_the_function_which_reads_the_whole_body_and_its_nonce_is_recorded_until_the_window_closes()
    {
        var body = "{\"offeringId\":\"off-1\",\"note\":\"" + new string('x', 100_000) + "\"}";
        var nonce = Guid.NewGuid();
        var signedAt = DateTimeOffset.UtcNow;

        var response = await app.Client.SendAsync(Signed(key, HttpMethod.Post, EchoPath, body, nonce: nonce, at: signedAt));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echo = await response.Content.ReadFromJsonAsync<SignedEcho>();
        Assert.Equal(key.PublicKeyHex, echo!.PublicKey);
        Assert.Equal(body, echo.Body);
        var row = await Nonces.GetEntityAsync<TableEntity>(key.PublicKeyHex, NonceStore.RowKey(nonce));
        var acceptedUntil = row.Value.GetDateTimeOffset(NonceStore.AcceptedUntilProperty)!.Value;
        Assert.InRange(acceptedUntil - signedAt, RequestVerifier.Window - TimeSpan.FromMilliseconds(1), RequestVerifier.Window + TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task A_signed_function_still_binds_its_json_body_after_the_check_read_it()
    {
        using var client = SigningClient(TimeProvider.System);

        var response = await client.PostAsJsonAsync("api/v1/test/orders", new Order("off-7", 12));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new Order($"off-7 for {key.PublicKeyHex[..8]}", 12), await response.Content.ReadFromJsonAsync<Order>());
    }

    [Fact]
    public async Task A_signed_body_of_exactly_the_limit_runs_the_function()
    {
        var body = "{\"note\":\"" + new string('x', SignedRequestOptions.DefaultMaxBodyBytes - 11) + "\"}";
        Assert.Equal(SignedRequestOptions.DefaultMaxBodyBytes, Encoding.UTF8.GetByteCount(body));

        var response = await app.Client.SendAsync(Signed(key, HttpMethod.Post, EchoPath, body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, (await response.Content.ReadFromJsonAsync<SignedEcho>())!.Body);
    }

    [Fact]
    public async Task A_signed_body_over_the_limit_is_refused_413_and_records_no_nonce()
    {
        var logged = app.Logs.Entries.Count;
        var body = "{\"note\":\"" + new string('x', SignedRequestOptions.DefaultMaxBodyBytes - 10) + "\"}";
        var nonce = Guid.NewGuid();

        var response = await app.Client.SendAsync(Signed(key, HttpMethod.Post, EchoPath, body, nonce: nonce));

        Assert.Equal("bodySize", (await ApiAssert.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge)).GetProperty("check").GetString());
        Assert.False(await NonceRecordedAsync(key.PublicKeyHex, nonce));
        Assert.Single(app.Logs.Entries.Skip(logged), e => e.EventId.Id == 1101 && e.Level == LogLevel.Warning);
    }

    [Fact]
    public async Task A_chunked_signed_body_is_refused_413_as_soon_as_it_passes_the_limit_and_records_no_nonce()
    {
        var body = Encoding.UTF8.GetBytes("{\"note\":\"" + new string('x', 2 * SignedRequestOptions.DefaultMaxBodyBytes) + "\"}");
        var nonce = Guid.NewGuid();
        var headers = RequestSigner.CreateHeaders(key, DateTimeOffset.UtcNow, nonce, "POST", EchoPath, body);
        using var request = new HttpRequestMessage(HttpMethod.Post, EchoPath.TrimStart('/')) { Content = new StreamContent(new MemoryStream(body)) };
        request.Headers.TransferEncodingChunked = true;
        headers.ApplyTo(request.Headers);

        var response = await app.Client.SendAsync(request);

        Assert.Equal("bodySize", (await ApiAssert.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge)).GetProperty("check").GetString());
        Assert.False(await NonceRecordedAsync(key.PublicKeyHex, nonce));
    }

    [Theory]
    [InlineData("invalid UTF-8 in a member the function does not bind")]
    [InlineData("lone surrogate in a member the function does not bind")]
    [InlineData("lone surrogate in a property name")]
    [InlineData("two documents")]
    [InlineData("a byte order mark")]
    public async Task A_signed_body_that_is_not_strict_utf8_json_is_refused_400_and_records_no_nonce(string what)
    {
        var logged = app.Logs.Entries.Count;
        byte[] body = what switch
        {
            "invalid UTF-8 in a member the function does not bind" => [.. Encoding.UTF8.GetBytes("""{"offeringId":"off-1","hours":2,"note":"a"""), 0xff, .. Encoding.UTF8.GetBytes("\"}")],
            "lone surrogate in a member the function does not bind" => Encoding.UTF8.GetBytes("""{"offeringId":"off-1","hours":2,"note":"\ud800"}"""),
            "lone surrogate in a property name" => Encoding.UTF8.GetBytes("""{"offeringId":"off-1","hours":2,"\udc00":1}"""),
            "two documents" => Encoding.UTF8.GetBytes("""{"offeringId":"off-1","hours":2}{"offeringId":"off-2","hours":3}"""),
            _ => [0xef, 0xbb, 0xbf, .. Encoding.UTF8.GetBytes("""{"offeringId":"off-1","hours":2}""")],
        };
        var nonce = Guid.NewGuid();
        var headers = RequestSigner.CreateHeaders(key, DateTimeOffset.UtcNow, nonce, "POST", "/api/v1/test/orders", body);
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/test/orders") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        headers.ApplyTo(request.Headers);

        var response = await app.Client.SendAsync(request);

        Assert.Equal("body", (await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest)).GetProperty("check").GetString());
        Assert.False(await NonceRecordedAsync(key.PublicKeyHex, nonce));
        Assert.Single(app.Logs.Entries.Skip(logged), e => e.EventId.Id == 1102 && e.Level == LogLevel.Warning);
    }

    [Fact]
    public async Task A_content_length_over_the_limit_is_refused_413_before_any_of_the_body_is_read()
    {
        // Only the head goes out: a server that read the body first would wait for bytes that never come.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(app.Client.BaseAddress!.Host, app.Client.BaseAddress.Port);
        var stream = tcp.GetStream();
        var head = $"POST {EchoPath} HTTP/1.1\r\nHost: {app.Client.BaseAddress.Authority}\r\nContent-Type: application/json\r\n"
            + $"Content-Length: {SignedRequestOptions.DefaultMaxBodyBytes + 1}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));

        using var reader = new StreamReader(stream, Encoding.ASCII);
        var statusLine = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("HTTP/1.1 413 Payload Too Large", statusLine);
    }

    [Theory]
    [InlineData(SignatureHeaders.PublicKeyHeader)]
    [InlineData(SignatureHeaders.SignatureHeader)]
    [InlineData(SignatureHeaders.TimestampHeader)]
    [InlineData(SignatureHeaders.NonceHeader)]
    public async Task A_request_missing_a_signing_header_is_refused_naming_the_header(string header)
    {
        var nonce = Guid.NewGuid();
        var request = Signed(key, HttpMethod.Get, EchoPath, nonce: nonce);
        request.Headers.Remove(header);

        var problem = await AssertRefusedAsync(await app.Client.SendAsync(request), "missingHeader");

        Assert.Contains(header, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.False(await NonceRecordedAsync(key.PublicKeyHex, nonce));
    }

    [Fact]
    public async Task An_unsigned_request_is_refused_and_the_function_does_not_run()
    {
        var response = await app.Client.PostAsync("api/v1/test/orders", JsonContent.Create(new Order("off-1", 1)));

        await AssertRefusedAsync(response, "missingHeader");
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 6001 && e.Message.Contains("PlaceOrder", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_request_signed_by_another_key_is_refused_without_echoing_the_headers()
    {
        var nonce = Guid.NewGuid();
        var request = Signed(Ed25519phKey.Generate(), HttpMethod.Post, EchoPath, """{"a":1}""", nonce: nonce);
        request.Headers.Remove(SignatureHeaders.PublicKeyHeader);
        request.Headers.Add(SignatureHeaders.PublicKeyHeader, key.PublicKeyHex);
        var signature = request.Headers.GetValues(SignatureHeaders.SignatureHeader).Single();

        await AssertRefusedAsync(await app.Client.SendAsync(request), "badSignature", key.PublicKeyHex, signature);

        Assert.False(await NonceRecordedAsync(key.PublicKeyHex, nonce));
    }

    [Fact]
    public async Task A_request_whose_body_was_changed_after_signing_is_refused_and_records_no_nonce()
    {
        var nonce = Guid.NewGuid();

        var response = await app.Client.SendAsync(Signed(key, HttpMethod.Post, EchoPath, """{"hours":24}""", sentBody: """{"hours":2400}""", nonce: nonce));

        await AssertRefusedAsync(response, "badSignature");
        Assert.False(await NonceRecordedAsync(key.PublicKeyHex, nonce));
    }

    [Fact]
    public async Task A_request_whose_query_was_changed_after_signing_is_refused_and_records_no_nonce()
    {
        var nonce = Guid.NewGuid();

        var response = await app.Client.SendAsync(Signed(key, HttpMethod.Get, EchoPath + "?page=1", sentTarget: EchoPath + "?page=2", nonce: nonce));

        await AssertRefusedAsync(response, "badSignature");
        Assert.False(await NonceRecordedAsync(key.PublicKeyHex, nonce));
    }

    [Fact]
    public async Task A_request_signed_six_minutes_ago_is_refused_as_too_old()
    {
        var nonce = Guid.NewGuid();

        var response = await app.Client.SendAsync(Signed(key, HttpMethod.Get, EchoPath, nonce: nonce, at: DateTimeOffset.UtcNow.AddMinutes(-6)));

        await AssertRefusedAsync(response, "staleTimestamp");
        Assert.False(await NonceRecordedAsync(key.PublicKeyHex, nonce));
    }

    [Fact]
    public async Task A_request_signed_six_minutes_ahead_is_refused_as_from_the_future()
    {
        var nonce = Guid.NewGuid();

        var response = await app.Client.SendAsync(Signed(key, HttpMethod.Get, EchoPath, nonce: nonce, at: DateTimeOffset.UtcNow.AddMinutes(6)));

        await AssertRefusedAsync(response, "futureTimestamp");
        Assert.False(await NonceRecordedAsync(key.PublicKeyHex, nonce));
    }

    [Fact]
    public async Task The_same_signed_request_sent_twice_is_refused_the_second_time_as_a_replay_and_not_recorded_again()
    {
        var nonce = Guid.NewGuid();
        var signedAt = DateTimeOffset.UtcNow;
        var first = await app.Client.SendAsync(Signed(key, HttpMethod.Post, EchoPath, """{"hours":1}""", nonce: nonce, at: signedAt));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var recorded = await Nonces.GetEntityAsync<TableEntity>(key.PublicKeyHex, NonceStore.RowKey(nonce));

        var replay = await app.Client.SendAsync(Signed(key, HttpMethod.Post, EchoPath, """{"hours":1}""", nonce: nonce, at: signedAt));

        var problem = await AssertRefusedAsync(replay, "replayedNonce");
        Assert.Contains("nonce was already used", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var after = await Nonces.GetEntityAsync<TableEntity>(key.PublicKeyHex, NonceStore.RowKey(nonce));
        Assert.Equal(recorded.Value.ETag, after.Value.ETag);
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 6002);
    }

    [Fact]
    public async Task A_forged_request_does_not_use_up_the_nonce_of_the_genuine_one()
    {
        var nonce = Guid.NewGuid();
        var forged = Signed(Ed25519phKey.Generate(), HttpMethod.Get, EchoPath, nonce: nonce);
        forged.Headers.Remove(SignatureHeaders.PublicKeyHeader);
        forged.Headers.Add(SignatureHeaders.PublicKeyHeader, key.PublicKeyHex);
        await AssertRefusedAsync(await app.Client.SendAsync(forged), "badSignature");

        var genuine = await app.Client.SendAsync(Signed(key, HttpMethod.Get, EchoPath, nonce: nonce));

        Assert.Equal(HttpStatusCode.OK, genuine.StatusCode);
    }

    [Fact]
    public async Task One_nonce_used_by_two_keys_is_two_separate_requests()
    {
        var nonce = Guid.NewGuid();

        var mine = await app.Client.SendAsync(Signed(key, HttpMethod.Get, EchoPath, nonce: nonce));
        var theirs = await app.Client.SendAsync(Signed(Ed25519phKey.Generate(), HttpMethod.Get, EchoPath, nonce: nonce));

        Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
        Assert.Equal(HttpStatusCode.OK, theirs.StatusCode);
    }

    [Fact]
    public async Task Purging_expired_nonces_deletes_only_rows_whose_window_has_closed()
    {
        // A clock a day ahead, so the app's own purge timer (on the real clock) leaves these rows alone.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(1));
        await Nonces.CreateIfNotExistsAsync();
        var expired = new[] { Row(key.PublicKeyHex, clock.GetUtcNow().AddSeconds(-1)), Row(Ed25519phKey.Generate().PublicKeyHex, clock.GetUtcNow().AddMinutes(-30)) };
        var live = new[] { Row(key.PublicKeyHex, clock.GetUtcNow().AddMinutes(4)), Row(key.PublicKeyHex, clock.GetUtcNow().AddSeconds(1)) };
        foreach (var row in expired.Concat(live))
        {
            await Nonces.AddEntityAsync(row);
        }

        var purge = new PurgeExpiredNonces(app.Services.GetRequiredService<NonceStore>(), clock, app.Services.GetRequiredService<ILogger<PurgeExpiredNonces>>());
        await purge.Run(new TimerInfo(), CancellationToken.None);

        foreach (var row in expired)
        {
            Assert.False((await Nonces.GetEntityIfExistsAsync<TableEntity>(row.PartitionKey, row.RowKey)).HasValue);
        }

        foreach (var row in live)
        {
            Assert.True((await Nonces.GetEntityIfExistsAsync<TableEntity>(row.PartitionKey, row.RowKey)).HasValue);
        }

        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 6003);
    }

    [Fact]
    public async Task Purging_before_any_signed_request_created_the_table_deletes_nothing_and_does_not_fail()
    {
        await Nonces.DeleteAsync();
        var purge = new PurgeExpiredNonces(app.Services.GetRequiredService<NonceStore>(), TimeProvider.System, app.Services.GetRequiredService<ILogger<PurgeExpiredNonces>>());

        await purge.Run(new TimerInfo(), CancellationToken.None);

        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 6003 && e.Message.Contains("Deleted 0 ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Signed_requests_go_on_working_after_the_nonce_table_was_deleted_while_the_app_ran()
    {
        Assert.Equal(HttpStatusCode.OK, (await app.Client.SendAsync(Signed(key, HttpMethod.Get, EchoPath))).StatusCode);
        await Nonces.DeleteAsync();
        var nonce = Guid.NewGuid();

        var response = await app.Client.SendAsync(Signed(key, HttpMethod.Get, EchoPath, nonce: nonce));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(await NonceRecordedAsync(key.PublicKeyHex, nonce));
    }

    private static TableEntity Row(string publicKeyHex, DateTimeOffset acceptedUntil) =>
        new(publicKeyHex, NonceStore.RowKey(Guid.NewGuid())) { [NonceStore.AcceptedUntilProperty] = acceptedUntil };
}
