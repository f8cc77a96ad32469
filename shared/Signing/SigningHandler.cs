namespace DecentCloud.Shared.Signing;

/// <summary>
/// Signs every request that passes through: <c>X-Public-Key</c>, <c>X-Signature</c>, <c>X-Timestamp</c> (from
/// <paramref name="timeProvider"/>) and <c>X-Nonce</c> (a new UUID each time, so a retry is a new request).
/// The signed path is the request URI's path and query exactly as they go on the wire.
/// </summary>
public sealed class SigningHandler(Ed25519phKey key, TimeProvider timeProvider) : DelegatingHandler
{
    public SigningHandler(Ed25519phKey key, TimeProvider timeProvider, HttpMessageHandler innerHandler)
        : this(key, timeProvider)
    {
        InnerHandler = innerHandler;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var uri = request.RequestUri;
        if (uri is null || !uri.IsAbsoluteUri)
        {
            throw new InvalidOperationException(
                $"SigningHandler signs the path as sent, so it needs an absolute request URI; got '{uri}'. Set HttpClient.BaseAddress or use an absolute URI.");
        }

        var body = await ReadBodyAsync(request.Content, cancellationToken);

        // PathAndQuery is AbsolutePath + Query in escaped form: the very string SocketsHttpHandler writes as the request target.
        var headers = RequestSigner.CreateHeaders(key, timeProvider.GetUtcNow(), Guid.NewGuid(), request.Method.Method, uri.PathAndQuery, body);
        headers.ApplyTo(request.Headers);

        return await base.SendAsync(request, cancellationToken);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContent? content, CancellationToken cancellationToken)
    {
        if (content is null)
        {
            return [];
        }

        // Buffering first makes any content (even a one-shot stream) readable again: once buffered, HttpContent
        // sends its buffer, so the bytes signed here are the bytes that go out.
        await content.LoadIntoBufferAsync(cancellationToken);
        return await content.ReadAsByteArrayAsync(cancellationToken);
    }
}
