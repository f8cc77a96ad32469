using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using DecentCloud.Shared.Signing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Time.Testing;

using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Signing;

/// <summary>
/// The handler against a real Kestrel on loopback that verifies with the request target exactly as received
/// (RawTarget), so what is signed is checked against what actually went over the wire.
/// </summary>
public sealed class SignedRequestsOverHttpTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider serverClock = new(Now);
    private readonly List<Received> received = [];
    private WebApplication? server;
    private Uri? address;

    public async Task InitializeAsync()
    {
        server = LoopbackServer.CreateBuilder().Build();
        var verifier = new RequestVerifier(serverClock);
        server.Run(async context =>
        {
            var target = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            var headers = SignatureHeaders.From(name => context.Request.Headers[name]);
            var result = verifier.Verify(context.Request.Method, target, headers, body.ToArray());
            lock (received)
            {
                received.Add(new Received(target, headers, body.ToArray(), result));
            }

            context.Response.StatusCode = result.IsValid ? StatusCodes.Status200OK : StatusCodes.Status401Unauthorized;
            await context.Response.WriteAsync(result.Outcome.ToString(), context.RequestAborted);
        });
        await server.StartAsync();
        address = LoopbackServer.AddressOf(server);
    }

    public async Task DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_signed_post_with_a_query_verifies_on_the_server_as_received()
    {
        var key = Ed25519phKey.Generate();
        using var client = Client(key, new FakeTimeProvider(Now));

        using var response = await client.PostAsJsonAsync("api/v1/contracts?offering=off-1&region=eu-west", new { hours = 24 });

        Assert.Equal("Valid", await response.Content.ReadAsStringAsync());
        var request = Assert.Single(received);
        Assert.Equal("/api/v1/contracts?offering=off-1&region=eu-west", request.Target);
        Assert.Equal(key.PublicKeyHex, request.Headers.PublicKey);
        Assert.Equal(UnixNanoseconds.From(Now).ToString(CultureInfo.InvariantCulture), request.Headers.Timestamp);
        Assert.Equal("""{"hours":24}""", Encoding.UTF8.GetString(request.Body));
        Assert.Equal(key.PublicKeyHex, request.Result.Request?.PublicKeyHex);
    }

    [Fact]
    public async Task A_path_the_client_escapes_is_signed_in_the_escaped_form_the_server_receives()
    {
        using var client = Client(Ed25519phKey.Generate(), new FakeTimeProvider(Now));

        using var response = await client.GetAsync("api/v1/offerings/gpu box?name=a b&note=ünïcode");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var request = Assert.Single(received);
        Assert.Equal("/api/v1/offerings/gpu%20box?name=a%20b&note=%C3%BCn%C3%AFcode", request.Target);
    }

    [Fact]
    public async Task A_streamed_body_reaches_the_server_whole_and_verifies()
    {
        var payload = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("0123456789abcdef", 8192)));
        using var client = Client(Ed25519phKey.Generate(), new FakeTimeProvider(Now));

        using var response = await client.PutAsync("api/v1/blobs/b-1", new StreamContent(new OneShotStream(payload)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(payload, Assert.Single(received).Body);
    }

    [Fact]
    public async Task A_client_whose_clock_is_ten_minutes_slow_is_refused_as_stale()
    {
        using var client = Client(Ed25519phKey.Generate(), new FakeTimeProvider(Now - TimeSpan.FromMinutes(10)));

        using var response = await client.GetAsync("api/v1/providers");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(nameof(VerificationOutcome.StaleTimestamp), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_unsigned_request_is_refused_for_its_missing_public_key()
    {
        using var client = new HttpClient { BaseAddress = address };

        using var response = await client.GetAsync("api/v1/providers");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var request = Assert.Single(received);
        Assert.Equal(VerificationOutcome.MissingHeader, request.Result.Outcome);
        Assert.Equal(SignatureHeaders.PublicKeyHeader, request.Result.Header);
    }

    private HttpClient Client(Ed25519phKey key, TimeProvider clientClock) =>
        new(new SigningHandler(key, clientClock, new SocketsHttpHandler())) { BaseAddress = address };

    private sealed record Received(string Target, SignatureHeaders Headers, byte[] Body, VerificationResult Result);
}
