using System.Globalization;

namespace DecentCloud.Shared.Signing;

/// <summary>
/// Checks a signed request: headers present and well-formed, timestamp within ±<see cref="Window"/> of
/// <paramref name="timeProvider"/>'s now, and an Ed25519ph signature (context <c>decent-cloud</c>) over
/// timestamp ‖ nonce ‖ METHOD ‖ path and query ‖ body. Nonce replay is the caller's to check, with
/// <see cref="VerifiedRequest.Nonce"/> and <see cref="VerifiedRequest.AcceptedUntil"/>.
/// </summary>
public sealed class RequestVerifier(TimeProvider timeProvider)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    private static readonly long WindowNanoseconds = Window.Ticks * 100;

    /// <param name="pathAndQuery">
    /// The request target exactly as it arrived (path and query, still escaped), e.g. ASP.NET Core's
    /// <c>IHttpRequestFeature.RawTarget</c>; a decoded or re-encoded path would not match what the client signed.
    /// </param>
    public VerificationResult Verify(string method, string pathAndQuery, SignatureHeaders headers, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(headers);

        if (FirstMissing(headers) is { } missing)
        {
            return VerificationResult.Failed(VerificationOutcome.MissingHeader, missing, $"The {missing} header is missing.");
        }

        if (!Ed25519phPublicKey.TryParse(headers.PublicKey, out var publicKey, out var keyError))
        {
            return Malformed(SignatureHeaders.PublicKeyHeader, keyError);
        }

        if (!Hex.TryDecode(headers.Signature, Ed25519phKey.SignatureLength, "The signature", out var signature, out var signatureError))
        {
            return Malformed(SignatureHeaders.SignatureHeader, signatureError);
        }

        if (!long.TryParse(headers.Timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp))
        {
            return Malformed(SignatureHeaders.TimestampHeader, "The timestamp must be Unix time in nanoseconds, as decimal digits.");
        }

        if (!Guid.TryParseExact(headers.Nonce, "D", out var nonce))
        {
            return Malformed(SignatureHeaders.NonceHeader, "The nonce must be a UUID (8-4-4-4-12 hex digits).");
        }

        var now = UnixNanoseconds.From(timeProvider.GetUtcNow());
        if (timestamp < now - WindowNanoseconds)
        {
            return VerificationResult.Failed(VerificationOutcome.StaleTimestamp, SignatureHeaders.TimestampHeader,
                $"The timestamp is more than {Window.TotalMinutes:0} minutes old; sign the request again with the current time.");
        }

        if (timestamp > now + WindowNanoseconds)
        {
            return VerificationResult.Failed(VerificationOutcome.FutureTimestamp, SignatureHeaders.TimestampHeader,
                $"The timestamp is more than {Window.TotalMinutes:0} minutes in the future; check the client's clock.");
        }

        // The message uses the header strings as sent, not their parsed forms: that is what the client signed.
        var message = RequestSigner.BuildMessage(headers.Timestamp!, headers.Nonce!, method, pathAndQuery, body);
        if (!publicKey.Verify(message, signature))
        {
            return VerificationResult.Failed(VerificationOutcome.BadSignature, SignatureHeaders.SignatureHeader,
                "The signature does not match this request and key (Ed25519ph, context \"decent-cloud\", over timestamp, nonce, method, path with query, body).");
        }

        var acceptedUntil = UnixNanoseconds.ToDateTimeOffset(timestamp) + Window;
        return VerificationResult.Valid(new VerifiedRequest(publicKey.Hex, nonce, timestamp, acceptedUntil));
    }

    private static string? FirstMissing(SignatureHeaders headers) =>
        string.IsNullOrEmpty(headers.PublicKey) ? SignatureHeaders.PublicKeyHeader
        : string.IsNullOrEmpty(headers.Signature) ? SignatureHeaders.SignatureHeader
        : string.IsNullOrEmpty(headers.Timestamp) ? SignatureHeaders.TimestampHeader
        : string.IsNullOrEmpty(headers.Nonce) ? SignatureHeaders.NonceHeader
        : null;

    private static VerificationResult Malformed(string header, string detail) =>
        VerificationResult.Failed(VerificationOutcome.MalformedHeader, header, detail);
}
