using System.Diagnostics.CodeAnalysis;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace DecentCloud.Shared.Signing;

/// <summary>A user's, provider's or agent's Ed25519 public key, as it travels in <c>X-Public-Key</c>: 32 bytes, hex.</summary>
public sealed class Ed25519phPublicKey
{
    public const int Length = 32;

    private readonly Ed25519PublicKeyParameters parameters;

    internal Ed25519phPublicKey(Ed25519PublicKeyParameters parameters)
    {
        this.parameters = parameters;
        Hex = Signing.Hex.Encode(parameters.GetEncoded());
    }

    /// <summary>Lower-case hex, whatever case it was parsed from, so one key is one identity.</summary>
    public string Hex { get; }

    public byte[] ToBytes() => parameters.GetEncoded();

    /// <exception cref="FormatException">Not 64 hex characters, or not a point on the curve.</exception>
    public static Ed25519phPublicKey Parse(string hex) =>
        TryParse(hex, out var key, out var error) ? key : throw new FormatException(error);

    public static bool TryParse(string? hex, [NotNullWhen(true)] out Ed25519phPublicKey? key, [NotNullWhen(false)] out string? error)
    {
        key = null;
        if (!Signing.Hex.TryDecode(hex, Length, "The public key", out var bytes, out error))
        {
            return false;
        }

        try
        {
            key = new Ed25519phPublicKey(new Ed25519PublicKeyParameters(bytes));
            return true;
        }
        catch (ArgumentException)
        {
            // BouncyCastle refuses bytes that do not decode to a curve point; for a caller that is just a malformed key.
            error = "The public key is 32 bytes but not an Ed25519 public key (not a point on the curve).";
            return false;
        }
    }

    /// <summary>True only for an Ed25519ph signature with context <c>decent-cloud</c> over exactly <paramref name="message"/>.</summary>
    public bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != Ed25519phKey.SignatureLength)
        {
            return false;
        }

        var verifier = new Ed25519phSigner(RequestSigner.ContextBytes);
        verifier.Init(forSigning: false, parameters);
        verifier.BlockUpdate(message);
        return verifier.VerifySignature(signature.ToArray());
    }

    public override string ToString() => Hex;
}
