using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math.EC.Rfc7748;

namespace DecentCloud.Shared.Sealing;

/// <summary>
/// Credentials sealed to a renter's Ed25519 public key, format version 2 (docs/sealing.md): the renter's key turned
/// into an X25519 key, X25519 with a new ephemeral key per seal, the shared secret hashed into an XChaCha20-Poly1305 key,
/// and the contract id as associated data, so a blob cannot be moved to another contract. Only the holder of the
/// renter's secret key can open it; the platform stores it and never can.
/// </summary>
public static class CredentialSealer
{
    public const int Version = 2;
    public const int NonceLength = 24;
    private const int KeyLength = 32;
    private const int TagBits = 128;

    private static readonly byte[] KeyDerivationPrefix = Encoding.UTF8.GetBytes("credential-encryption-v2-aad");

    // Curve25519's field prime, 2^255 - 19.
    private static readonly BigInteger P = BigInteger.Pow(2, 255) - 19;

    /// <summary>Seals <paramref name="plaintext"/> to the renter's Ed25519 public key for one contract.</summary>
    /// <exception cref="FormatException">The public key is not an Ed25519 public key.</exception>
    public static SealedCredentials Seal(ReadOnlySpan<byte> recipientEd25519PublicKey, string plaintext, string contractId)
    {
        var ephemeralSecret = RandomNumberGenerator.GetBytes(KeyLength);
        var nonce = RandomNumberGenerator.GetBytes(NonceLength);
        try
        {
            return Seal(recipientEd25519PublicKey, plaintext, contractId, ephemeralSecret, nonce);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ephemeralSecret);
        }
    }

    /// <summary>Seals with a given ephemeral secret and nonce: only for reproducing the published vectors.</summary>
    internal static SealedCredentials Seal(ReadOnlySpan<byte> recipientEd25519PublicKey, string plaintext, string contractId,
        byte[] ephemeralSecret, byte[] nonce)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        ArgumentException.ThrowIfNullOrEmpty(contractId);
        if (nonce.Length != NonceLength || ephemeralSecret.Length != KeyLength)
        {
            throw new ArgumentException($"The ephemeral secret is {KeyLength} bytes and the nonce {NonceLength}.");
        }

        var recipient = X25519PublicFromEd25519(recipientEd25519PublicKey);
        var ephemeralPublic = new byte[KeyLength];
        X25519.ScalarMultBase(ephemeralSecret, 0, ephemeralPublic, 0);

        var key = DeriveKey(ephemeralSecret, recipient);
        var aad = Encoding.UTF8.GetBytes(contractId);
        try
        {
            var ciphertext = XChaCha20Poly1305(forEncryption: true, key, nonce, aad, Encoding.UTF8.GetBytes(plaintext));
            return new SealedCredentials(Version, Convert.ToBase64String(ephemeralPublic), Convert.ToBase64String(nonce),
                Convert.ToBase64String(ciphertext), Convert.ToBase64String(aad));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Opens a sealed blob with the renter's Ed25519 secret seed (32 bytes).</summary>
    /// <exception cref="CryptographicException">
    /// Not version 2, not sealed for <paramref name="contractId"/>, not for this key, or altered.
    /// </exception>
    public static string Open(SealedCredentials sealedCredentials, ReadOnlySpan<byte> recipientEd25519Seed, string contractId)
    {
        ArgumentNullException.ThrowIfNull(sealedCredentials);
        ArgumentException.ThrowIfNullOrEmpty(contractId);
        if (sealedCredentials.Version != Version)
        {
            throw new CryptographicException($"Sealed credentials of version {sealedCredentials.Version}; only version {Version} is known.");
        }

        var aad = Encoding.UTF8.GetBytes(contractId);
        byte[] ephemeralPublic, nonce, ciphertext, sealedAad;
        try
        {
            ephemeralPublic = Convert.FromBase64String(sealedCredentials.EphemeralPubkey);
            nonce = Convert.FromBase64String(sealedCredentials.Nonce);
            ciphertext = Convert.FromBase64String(sealedCredentials.Ciphertext);
            sealedAad = Convert.FromBase64String(sealedCredentials.Aad);
        }
        catch (FormatException ex)
        {
            throw new CryptographicException("A field of the sealed credentials is not base64.", ex);
        }

        if (!sealedAad.AsSpan().SequenceEqual(aad))
        {
            throw new CryptographicException("The credentials were sealed for another contract.");
        }
        if (ephemeralPublic.Length != KeyLength || nonce.Length != NonceLength)
        {
            throw new CryptographicException($"The ephemeral key must be {KeyLength} bytes and the nonce {NonceLength}.");
        }

        var secret = X25519SecretFromEd25519Seed(recipientEd25519Seed);
        var key = DeriveKey(secret, ephemeralPublic);
        try
        {
            return Encoding.UTF8.GetString(XChaCha20Poly1305(forEncryption: false, key, nonce, aad, ciphertext));
        }
        catch (InvalidCipherTextException ex)
        {
            throw new CryptographicException("The sealed credentials do not open with this key and contract (wrong key, or altered).", ex);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>
    /// The Montgomery u-coordinate of an Edwards point, u = (1 + y) / (1 − y) mod p (RFC 7748, section 4.1). The key is
    /// checked to be a curve point first, so a typo in a renter's key is refused rather than sealed to nobody.
    /// </summary>
    internal static byte[] X25519PublicFromEd25519(ReadOnlySpan<byte> ed25519PublicKey)
    {
        if (ed25519PublicKey.Length != KeyLength)
        {
            throw new FormatException($"An Ed25519 public key is {KeyLength} bytes; got {ed25519PublicKey.Length}.");
        }
        try
        {
            _ = new Ed25519PublicKeyParameters(ed25519PublicKey);
        }
        catch (ArgumentException ex)
        {
            throw new FormatException("The recipient's key is not an Ed25519 public key (not a point on the curve).", ex);
        }

        var yBytes = ed25519PublicKey.ToArray();
        yBytes[31] &= 0x7f; // the top bit is the sign of x, not part of y
        var y = new BigInteger(yBytes, isUnsigned: true, isBigEndian: false);
        var denominator = Mod(1 - y);
        if (denominator.IsZero)
        {
            throw new FormatException("The recipient's key is the Edwards identity point; it has no X25519 counterpart.");
        }

        var u = Mod((1 + y) * BigInteger.ModPow(denominator, P - 2, P));
        var result = new byte[KeyLength];
        u.TryWriteBytes(result, out _, isUnsigned: true, isBigEndian: false);
        return result;
    }

    /// <summary>The X25519 secret of an Ed25519 seed: SHA-512 of the seed, first 32 bytes, clamped (RFC 8032, 5.1.5).</summary>
    internal static byte[] X25519SecretFromEd25519Seed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != KeyLength)
        {
            throw new ArgumentException($"An Ed25519 seed is {KeyLength} bytes; got {seed.Length}.", nameof(seed));
        }

        Span<byte> hash = stackalloc byte[SHA512.HashSizeInBytes];
        SHA512.HashData(seed, hash);
        var secret = hash[..KeyLength].ToArray();
        CryptographicOperations.ZeroMemory(hash);
        secret[0] &= 248;
        secret[31] &= 127;
        secret[31] |= 64;
        return secret;
    }

    private static byte[] DeriveKey(byte[] ownSecret, byte[] otherPublic)
    {
        var shared = new byte[KeyLength];
        X25519.ScalarMult(ownSecret, 0, otherPublic, 0, shared, 0);
        try
        {
            // A low-order public key gives an all-zero secret that anyone could compute.
            if (shared.AsSpan().IndexOfAnyExcept((byte)0) < 0)
            {
                throw new CryptographicException("The X25519 shared secret is zero: the public key is of low order.");
            }

            var input = new byte[KeyDerivationPrefix.Length + KeyLength];
            KeyDerivationPrefix.CopyTo(input, 0);
            shared.CopyTo(input, KeyDerivationPrefix.Length);
            var hash = SHA512.HashData(input);
            CryptographicOperations.ZeroMemory(input);
            var key = hash[..KeyLength];
            CryptographicOperations.ZeroMemory(hash);
            return key;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
        }
    }

    /// <summary>
    /// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha): HChaCha20 of the key and the nonce's first 16 bytes gives a subkey,
    /// which runs ChaCha20-Poly1305 (RFC 8439) with the nonce 0x00000000 ‖ the nonce's last 8 bytes.
    /// </summary>
    private static byte[] XChaCha20Poly1305(bool forEncryption, byte[] key, byte[] nonce, byte[] aad, byte[] input)
    {
        var subkey = HChaCha20(key, nonce.AsSpan(0, 16));
        var innerNonce = new byte[12];
        nonce.AsSpan(16, 8).CopyTo(innerNonce.AsSpan(4));
        try
        {
            var cipher = new Org.BouncyCastle.Crypto.Modes.ChaCha20Poly1305();
            cipher.Init(forEncryption, new AeadParameters(new KeyParameter(subkey), TagBits, innerNonce, aad));
            var output = new byte[cipher.GetOutputSize(input.Length)];
            var written = cipher.ProcessBytes(input, 0, input.Length, output, 0);
            written += cipher.DoFinal(output, written);
            return written == output.Length ? output : output[..written];
        }
        finally
        {
            CryptographicOperations.ZeroMemory(subkey);
        }
    }

    internal static byte[] HChaCha20(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce16)
    {
        Span<uint> state = stackalloc uint[16];
        state[0] = 0x61707865;
        state[1] = 0x3320646e;
        state[2] = 0x79622d32;
        state[3] = 0x6b206574;
        for (var i = 0; i < 8; i++)
        {
            state[4 + i] = ReadUInt32(key[(i * 4)..]);
        }
        for (var i = 0; i < 4; i++)
        {
            state[12 + i] = ReadUInt32(nonce16[(i * 4)..]);
        }

        for (var round = 0; round < 10; round++)
        {
            QuarterRound(state, 0, 4, 8, 12);
            QuarterRound(state, 1, 5, 9, 13);
            QuarterRound(state, 2, 6, 10, 14);
            QuarterRound(state, 3, 7, 11, 15);
            QuarterRound(state, 0, 5, 10, 15);
            QuarterRound(state, 1, 6, 11, 12);
            QuarterRound(state, 2, 7, 8, 13);
            QuarterRound(state, 3, 4, 9, 14);
        }

        var subkey = new byte[KeyLength];
        for (var i = 0; i < 4; i++)
        {
            WriteUInt32(subkey.AsSpan(i * 4), state[i]);
            WriteUInt32(subkey.AsSpan(16 + (i * 4)), state[12 + i]);
        }
        state.Clear();
        return subkey;
    }

    private static void QuarterRound(Span<uint> x, int a, int b, int c, int d)
    {
        x[a] += x[b]; x[d] = BitOperations.RotateLeft(x[d] ^ x[a], 16);
        x[c] += x[d]; x[b] = BitOperations.RotateLeft(x[b] ^ x[c], 12);
        x[a] += x[b]; x[d] = BitOperations.RotateLeft(x[d] ^ x[a], 8);
        x[c] += x[d]; x[b] = BitOperations.RotateLeft(x[b] ^ x[c], 7);
    }

    private static uint ReadUInt32(ReadOnlySpan<byte> bytes) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes);

    private static void WriteUInt32(Span<byte> bytes, uint value) => System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);

    private static BigInteger Mod(BigInteger value)
    {
        var r = BigInteger.Remainder(value, P);
        return r.Sign < 0 ? r + P : r;
    }
}

/// <summary>
/// A sealed blob as the API carries it (camelCase in JSON: <c>ephemeralPubkey</c>); every field but the version is base64.
/// <paramref name="Aad"/> is the contract id's UTF-8 bytes.
/// </summary>
public sealed record SealedCredentials(int Version, string EphemeralPubkey, string Nonce, string Ciphertext, string Aad);
