using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using DecentCloud.Shared.Signing;
using Microsoft.Extensions.Time.Testing;

namespace DecentCloud.Tests.Signing;

public sealed class SigningHandlerTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly Ed25519phKey key = Ed25519phKey.Generate();
    private readonly FakeTimeProvider clock = new(Now);
    private readonly CapturingHandler transport = new();

    [Fact]
    public async Task A_signed_post_carries_the_four_headers_and_verifies()
    {
        using var client = Client();

        await client.PostAsJsonAsync("api/v1/contracts?dryRun=true", new { offeringId = "off-1", hours = 24 });

        var sent = Assert.Single(transport.Requests);
        Assert.Equal(key.PublicKeyHex, sent.Headers.PublicKey);
        Assert.Equal(UnixNanoseconds.From(Now).ToString(CultureInfo.InvariantCulture), sent.Headers.Timestamp);
        Assert.True(Guid.TryParseExact(sent.Headers.Nonce, "D", out _), sent.Headers.Nonce);
        Assert.Matches("^[0-9a-f]{128}$", sent.Headers.Signature);
        Assert.Equal("""{"offeringId":"off-1","hours":24}""", Encoding.UTF8.GetString(sent.Body));
        Assert.All(SignatureHeaders.Names, name => Assert.Equal(1, sent.Counts[name]));

        var result = new RequestVerifier(clock).Verify(sent.Method, sent.PathAndQuery, sent.Headers, sent.Body);
        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(key.PublicKeyHex, result.Request.PublicKeyHex);
    }

    [Fact]
    public async Task The_signed_path_includes_the_query_string_as_sent()
    {
        using var client = Client();

        await client.GetAsync("api/v1/offerings?country=DE&page=2");

        var sent = Assert.Single(transport.Requests);
        Assert.Equal("/api/v1/offerings?country=DE&page=2", sent.PathAndQuery);
        Assert.True(new RequestVerifier(clock).Verify("GET", "/api/v1/offerings?country=DE&page=2", sent.Headers, []).IsValid);
        Assert.Equal(VerificationOutcome.BadSignature, new RequestVerifier(clock).Verify("GET", "/api/v1/offerings", sent.Headers, []).Outcome);
    }

    [Fact]
    public async Task Every_request_gets_a_new_nonce_and_the_current_time()
    {
        using var client = Client();

        await client.GetAsync("api/v1/providers");
        clock.Advance(TimeSpan.FromSeconds(3));
        await client.GetAsync("api/v1/providers");

        Assert.Equal(2, transport.Requests.Count);
        Assert.NotEqual(transport.Requests[0].Headers.Nonce, transport.Requests[1].Headers.Nonce);
        Assert.Equal(
            UnixNanoseconds.From(Now + TimeSpan.FromSeconds(3)).ToString(CultureInfo.InvariantCulture),
            transport.Requests[1].Headers.Timestamp);
    }

    [Fact]
    public async Task A_one_shot_stream_body_is_signed_and_still_sent_whole()
    {
        var payload = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("ssh-ed25519 AAAA user@host\n", 500)));
        using var client = Client();

        await client.PutAsync("api/v1/keys", new StreamContent(new OneShotStream(payload)));

        var sent = Assert.Single(transport.Requests);
        Assert.Equal(payload, sent.Body);
        Assert.True(new RequestVerifier(clock).Verify(sent.Method, sent.PathAndQuery, sent.Headers, sent.Body).IsValid);
    }

    [Fact]
    public async Task Sending_the_same_message_again_replaces_its_signing_headers()
    {
        using var invoker = new HttpMessageInvoker(new SigningHandler(key, clock, transport));
        using var request = new HttpRequestMessage(HttpMethod.Delete, "http://localhost/api/v1/contracts/c-1");

        await invoker.SendAsync(request, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(1));
        await invoker.SendAsync(request, CancellationToken.None);

        var retry = transport.Requests[1];
        Assert.All(SignatureHeaders.Names, name => Assert.Equal(1, retry.Counts[name]));
        Assert.NotEqual(transport.Requests[0].Headers.Nonce, retry.Headers.Nonce);
        Assert.True(new RequestVerifier(clock).Verify("DELETE", "/api/v1/contracts/c-1", retry.Headers, []).IsValid);
    }

    [Fact]
    public async Task A_request_without_an_absolute_uri_is_refused_before_anything_is_sent()
    {
        using var invoker = new HttpMessageInvoker(new SigningHandler(key, clock, transport));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("api/v1/providers", UriKind.Relative));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => invoker.SendAsync(request, CancellationToken.None));

        Assert.Contains("absolute request URI", error.Message, StringComparison.Ordinal);
        Assert.Empty(transport.Requests);
    }

    public void Dispose() => transport.Dispose();

    private HttpClient Client() =>
        new(new SigningHandler(key, clock, transport)) { BaseAddress = new Uri("http://provider.example/") };

    public sealed record SentRequest(string Method, string PathAndQuery, SignatureHeaders Headers, byte[] Body, IReadOnlyDictionary<string, int> Counts);

    /// <summary>Stands where the network would: reads the body the way a transport does and records what would go out.</summary>
    private sealed class CapturingHandler : HttpMessageHandler
    {
        public List<SentRequest> Requests { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            using var body = new MemoryStream();
            if (request.Content is not null)
            {
                await request.Content.CopyToAsync(body, cancellationToken);
            }

            var counts = SignatureHeaders.Names.ToDictionary(
                name => name,
                name => request.Headers.TryGetValues(name, out var values) ? values.Count() : 0);
            Requests.Add(new SentRequest(request.Method.Method, request.RequestUri!.PathAndQuery, SignatureHeaders.From(request.Headers), body.ToArray(), counts));
            return new HttpResponseMessage(HttpStatusCode.NoContent);
        }
    }
}

/// <summary>A body that can be read once, from the start, like a network or file stream that cannot seek.</summary>
internal sealed class OneShotStream(byte[] bytes) : Stream
{
    private readonly MemoryStream inner = new(bytes);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
