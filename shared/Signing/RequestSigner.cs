using System.Globalization;
using System.Text;

namespace DecentCloud.Shared.Signing;

/// <summary>
/// The Decent Cloud request signature. The signed message is, in UTF-8 and with no separators:
/// timestamp (Unix nanoseconds, decimal) ‖ nonce (UUID) ‖ METHOD ‖ path with its query string ‖ body bytes.
/// Parameters come in that same order everywhere in this class.
/// </summary>
public static class RequestSigner
{
    public const string Context = "decent-cloud";

    internal static readonly byte[] ContextBytes = Encoding.UTF8.GetBytes(Context);

    public static byte[] BuildMessage(string timestamp, string nonce, string method, string pathAndQuery, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(timestamp);
        ArgumentNullException.ThrowIfNull(nonce);
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentException.ThrowIfNullOrEmpty(pathAndQuery);

        var head = string.Concat(timestamp, nonce, method.ToUpperInvariant(), pathAndQuery);
        var message = new byte[Encoding.UTF8.GetByteCount(head) + body.Length];
        var written = Encoding.UTF8.GetBytes(head, message);
        body.CopyTo(message.AsSpan(written));
        return message;
    }

    /// <returns>The signature as 128 lower-case hex characters.</returns>
    public static string Sign(Ed25519phKey key, string timestamp, string nonce, string method, string pathAndQuery, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Hex.Encode(key.Sign(BuildMessage(timestamp, nonce, method, pathAndQuery, body)));
    }

    /// <returns>False when the signature does not match; a wrong key, message or algorithm all look the same.</returns>
    /// <exception cref="FormatException">The public key or signature is not hex of the right length.</exception>
    public static bool Verify(string publicKeyHex, string signatureHex, string timestamp, string nonce, string method, string pathAndQuery, ReadOnlySpan<byte> body)
    {
        var publicKey = Ed25519phPublicKey.Parse(publicKeyHex);
        var signature = Hex.Decode(signatureHex, Ed25519phKey.SignatureLength, "The signature");
        return publicKey.Verify(BuildMessage(timestamp, nonce, method, pathAndQuery, body), signature);
    }

    /// <summary>All four headers for one request, signed at <paramref name="now"/> with <paramref name="nonce"/>.</summary>
    public static SignatureHeaders CreateHeaders(Ed25519phKey key, DateTimeOffset now, Guid nonce, string method, string pathAndQuery, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(key);
        var timestamp = UnixNanoseconds.From(now).ToString(CultureInfo.InvariantCulture);
        var nonceText = nonce.ToString("D");
        var signature = Sign(key, timestamp, nonceText, method, pathAndQuery, body);
        return new SignatureHeaders(key.PublicKeyHex, signature, timestamp, nonceText);
    }
}
