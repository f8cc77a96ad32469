using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DecentCloud.Shared;
using DecentCloud.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace DecentCloud.Tests.Hosting;

/// <summary>
/// What the app's own worker middleware and functions do with any HTTP request, through the local host and the real
/// worker: health, route values no storage key can be, bodies the server cannot read. (Keys, routes and the host's own
/// answers are the local host's, tested with the sample app in LocalHost/.)
/// </summary>
public sealed class AppHttpTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private readonly TestFunctionApp app = fixture.App;

    [Fact]
    public async Task Health_answers_200_with_reachable_storage_and_the_version()
    {
        var response = await app.Client.GetAsync("api/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("healthy", body.GetProperty("status").GetString());
        Assert.Equal(BuildInfo.Version, body.GetProperty("version").GetString());
        Assert.True(body.GetProperty("storage").GetProperty("reachable").GetBoolean());
    }

    /// <summary>Route values as they go on the wire, each one a storage key cannot be.</summary>
    public static TheoryData<string, string> RouteValuesNoKeyCanBe() => new()
    {
        { "257 characters", new string('a', 257) },
        { "300 euro signs", string.Concat(Enumerable.Repeat("%E2%82%AC", 300)) },
        { "a backslash", "a%5Cb" },
        { "a hash", "a%23b" },
        { "a question mark", "a%3Fb" },
        { "U+0001", "a%01b" },
        { "U+001F", "a%1Fb" },
        { "U+007F", "a%7Fb" },
        { "U+0085", "a%C2%85b" },
        { "U+009F", "a%C2%9Fb" },
    };

    [Theory]
    [MemberData(nameof(RouteValuesNoKeyCanBe))]
    public async Task A_route_value_no_storage_key_can_be_is_refused_400_before_the_function_runs(string what, string value)
    {
        var earlier = app.Logs.Entries.Count;
        var response = await app.Client.GetAsync($"api/v1/providers/{value}");

        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("pubkey", problem.GetProperty("parameter").GetString());
        await Eventually.HoldsAsync(() => app.Logs.Entries.Skip(earlier).Any(e => e.EventId.Id == 1100), "the refusal was logged");
        var logged = Assert.Single(app.Logs.Entries.Skip(earlier), e => e.EventId.Id == 1100);
        Assert.True(logged.Level == LogLevel.Warning && logged.Message.Contains("GetProvider", StringComparison.Ordinal), what);
    }

    [Fact]
    public async Task A_route_value_of_256_characters_with_an_encoded_slash_reaches_the_function()
    {
        var earlier = app.Logs.Entries.Count;
        // The server leaves %2F encoded in the path, so the function sees the three characters, which a key may hold.
        var response = await app.Client.GetAsync($"api/v1/providers/{new string('a', 251)}%2Fb%E2%82%AC");

        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Contains(new string('a', 251) + "%2Fb€", problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(app.Logs.Entries.Skip(earlier), e => e.EventId.Id == 1100);
    }

    [Fact]
    public async Task A_route_value_no_key_can_be_is_refused_400_on_an_admin_function_once_the_master_key_opened_it()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/admin/queues/a%23b/poison");
        request.Headers.Add("x-functions-key", TestKeys.Master);

        var response = await app.Client.SendAsync(request);

        Assert.Equal("queue", (await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest)).GetProperty("parameter").GetString());
    }

    /// <summary>Functions that read their body by hand rather than through binding: the webhooks, and the signature check.</summary>
    [Theory]
    [InlineData("api/v1/webhooks/stripe")]
    [InlineData("api/v1/webhooks/chatwoot")]
    [InlineData("api/v1/providers")]
    public async Task A_body_the_server_cannot_read_is_a_4xx_and_not_a_500(string path)
    {
        var earlier = app.Logs.Entries.Count;
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(app.Client.BaseAddress!.Host, app.Client.BaseAddress.Port);
        var stream = tcp.GetStream();
        // A chunk size that is not hex: the server refuses the body while it is read.
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            $"POST /{path} HTTP/1.1\r\nHost: {app.Client.BaseAddress.Authority}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{{\"a\":\r\nzz\r\n"));

        using var reader = new StreamReader(stream, System.Text.Encoding.ASCII);
        var status = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("HTTP/1.1 400 Bad Request", status);
        await Eventually.HoldsAsync(() => app.Logs.Entries.Skip(earlier).Any(e => e.EventId.Id == 1288), "the refusal was logged");
        Assert.DoesNotContain(app.Logs.Entries.Skip(earlier), e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task A_json_body_that_is_not_json_is_a_400_problem_and_one_sent_as_another_type_a_415()
    {
        using var signer = app.SignedBy(DecentCloud.Shared.Signing.Ed25519phKey.Generate());

        var notJson = await signer.PostAsync("api/v1/contracts", new StringContent("{\"offeringId\": ", System.Text.Encoding.UTF8, "application/json"));
        var notJsonType = await signer.PostAsync("api/v1/contracts", new StringContent("{\"offeringId\": \"1\"}", System.Text.Encoding.UTF8, "text/plain"));

        await ApiAssert.ProblemAsync(notJson, HttpStatusCode.BadRequest);
        await ApiAssert.ProblemAsync(notJsonType, HttpStatusCode.UnsupportedMediaType);
    }
}

public sealed class HealthWithoutStorageTests
{
    [Fact]
    public async Task Health_answers_503_when_storage_is_unreachable_and_the_app_keeps_running()
    {
        // A loopback port nothing listens on (free a moment ago): connections are refused at once, and
        // the app must start anyway and say storage is unreachable.
        var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var nowhere = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
            + $"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
        await using var app = await TestFunctionApp.StartAsync(nowhere);

        var response = await app.Client.GetAsync("api/health");
        var again = await app.Client.GetAsync("api/health");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("unhealthy", body.GetProperty("status").GetString());
        Assert.False(body.GetProperty("storage").GetProperty("reachable").GetBoolean());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, again.StatusCode);
    }
}
