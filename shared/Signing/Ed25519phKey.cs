using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace DecentCloud.Shared.Signing;

/// <summary>
/// An Ed25519 secret key (the 32-byte seed) that signs the Decent Cloud way: Ed25519ph (SHA-512 prehash) with
/// context <c>decent-cloud</c>. Safe to share between threads: every signature uses its own signer.
/// </summary>
public sealed class Ed25519phKey
{
    public const int SeedLength = 32;
    public const int SignatureLength = 64;

    private readonly Ed25519PrivateKeyParameters parameters;

    private Ed25519phKey(Ed25519PrivateKeyParameters parameters)
    {
        this.parameters = parameters;
        PublicKey = new Ed25519phPublicKey(parameters.GeneratePublicKey());
    }

    public Ed25519phPublicKey PublicKey { get; }

    public string PublicKeyHex => PublicKey.Hex;

    /// <exception cref="ArgumentException">The seed is not 32 bytes.</exception>
    public static Ed25519phKey FromSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != SeedLength)
        {
            throw new ArgumentException($"An Ed25519 seed is {SeedLength} bytes; got {seed.Length}.", nameof(seed));
        }

        return new Ed25519phKey(new Ed25519PrivateKeyParameters(seed));
    }

    /// <exception cref="FormatException">Not 64 hex characters.</exception>
    public static Ed25519phKey FromSeedHex(string seedHex) =>
        FromSeed(Hex.Decode(seedHex, SeedLength, "The secret key seed"));

    public static Ed25519phKey Generate()
    {
        Span<byte> seed = stackalloc byte[SeedLength];
        RandomNumberGenerator.Fill(seed);
        try
        {
            return FromSeed(seed);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>The seed as hex, for a tool that has to store a key it generated. Treat the result as a secret.</summary>
    public string ExportSeedHex() => Hex.Encode(parameters.GetEncoded());

    /// <summary>The 64-byte signature; deterministic, so one key and one message always give the same bytes.</summary>
    public byte[] Sign(ReadOnlySpan<byte> message)
    {
        var signer = new Ed25519phSigner(RequestSigner.ContextBytes);
        signer.Init(forSigning: true, parameters);
        signer.BlockUpdate(message);
        return signer.GenerateSignature();
    }

    /// <summary>The public half only, so a key that lands in a log line or a debugger never shows its seed.</summary>
    public override string ToString() => $"Ed25519phKey {PublicKeyHex}";
}
