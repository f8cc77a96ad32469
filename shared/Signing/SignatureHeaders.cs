using System.Net.Http.Headers;

namespace DecentCloud.Shared.Signing;

/// <summary>The four signing headers as they arrive (any may be missing) or as they are to be sent.</summary>
public sealed record SignatureHeaders(string? PublicKey, string? Signature, string? Timestamp, string? Nonce)
{
    public const string PublicKeyHeader = "X-Public-Key";
    public const string SignatureHeader = "X-Signature";
    public const string TimestampHeader = "X-Timestamp";
    public const string NonceHeader = "X-Nonce";

    public static IReadOnlyList<string> Names { get; } = [PublicKeyHeader, SignatureHeader, TimestampHeader, NonceHeader];

    /// <summary>Reads the headers through any lookup: ASP.NET Core's <c>IHeaderDictionary</c>, the Functions worker's <c>HttpHeadersCollection</c>.</summary>
    public static SignatureHeaders From(Func<string, string?> header)
    {
        ArgumentNullException.ThrowIfNull(header);
        return new(header(PublicKeyHeader), header(SignatureHeader), header(TimestampHeader), header(NonceHeader));
    }

    /// <summary>A header sent twice comes back joined with commas, so it fails as malformed instead of one copy being picked.</summary>
    public static SignatureHeaders From(HttpHeaders headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        return From(name => headers.TryGetValues(name, out var values) ? string.Join(',', values) : null);
    }

    /// <summary>Replaces any signing headers already there, so a request sent again (a retry) carries one fresh set.</summary>
    public void ApplyTo(HttpHeaders headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        Set(headers, PublicKeyHeader, PublicKey);
        Set(headers, SignatureHeader, Signature);
        Set(headers, TimestampHeader, Timestamp);
        Set(headers, NonceHeader, Nonce);
    }

    private static void Set(HttpHeaders headers, string name, string? value)
    {
        headers.Remove(name);
        if (value is not null)
        {
            headers.Add(name, value);
        }
    }
}
