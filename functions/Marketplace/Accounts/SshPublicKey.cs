using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace DecentCloud.Functions.Marketplace.Accounts;

/// <summary>An OpenSSH public key line (<c>type base64 [comment]</c>) of an accepted type, with its SHA256 fingerprint.</summary>
public sealed record SshPublicKey(string KeyType, string Base64, string? Comment, string Fingerprint)
{
    public static readonly IReadOnlyList<string> AcceptedTypes = ["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256"];

    public const int MaxLineLength = 16 * 1024;

    public string Line => Comment is null ? $"{KeyType} {Base64}" : $"{KeyType} {Base64} {Comment}";

    /// <summary>Parses one line; null with <paramref name="error"/> set when it is not an accepted OpenSSH public key.</summary>
    public static SshPublicKey? TryParse(string? line, out string error)
    {
        error = "";
        if (string.IsNullOrWhiteSpace(line))
        {
            error = "An OpenSSH public key line is required.";
            return null;
        }

        line = line.Trim();
        if (line.Length > MaxLineLength || line.Contains('\n', StringComparison.Ordinal) || line.Contains('\r', StringComparison.Ordinal))
        {
            error = "One OpenSSH public key line is expected.";
            return null;
        }

        var parts = line.Split([' ', '\t'], 3, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2 || !AcceptedTypes.Contains(parts[0]))
        {
            error = $"The key must start with one of {string.Join(", ", AcceptedTypes)} followed by the base64 key.";
            return null;
        }

        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(parts[1]);
        }
        catch (FormatException)
        {
            error = "The key's base64 does not decode.";
            return null;
        }

        if (!TryReadString(blob, 0, out var embedded, out var next) || Encoding.ASCII.GetString(embedded) != parts[0])
        {
            error = $"The decoded key is not a {parts[0]} key.";
            return null;
        }

        if (!HasValidBody(parts[0], blob, next))
        {
            error = $"The decoded key is not a well-formed {parts[0]} key.";
            return null;
        }

        var fingerprint = "SHA256:" + Convert.ToBase64String(SHA256.HashData(blob)).TrimEnd('=');
        var comment = parts.Length == 3 ? parts[2].Trim() : null;
        return new SshPublicKey(parts[0], parts[1], string.IsNullOrEmpty(comment) ? null : comment, fingerprint);
    }

    private static bool HasValidBody(string type, byte[] blob, int offset)
    {
        switch (type)
        {
            case "ssh-ed25519":
                return TryReadString(blob, offset, out var key, out var end) && key.Length == 32 && end == blob.Length;
            case "ssh-rsa":
                return TryReadString(blob, offset, out var exponent, out var afterExponent) && exponent.Length > 0
                    && TryReadString(blob, afterExponent, out var modulus, out var afterModulus) && modulus.Length >= 128
                    && afterModulus == blob.Length;
            default:
                return TryReadString(blob, offset, out var curve, out var afterCurve) && Encoding.ASCII.GetString(curve) == "nistp256"
                    && TryReadString(blob, afterCurve, out var point, out var afterPoint) && point.Length == 65 && point[0] == 4
                    && afterPoint == blob.Length;
        }
    }

    /// <summary>Reads an SSH wire string: a big-endian uint32 length and that many bytes.</summary>
    private static bool TryReadString(byte[] blob, int offset, out byte[] value, out int next)
    {
        value = [];
        next = offset;
        if (blob.Length - offset < 4)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(blob.AsSpan(offset, 4));
        if (length > (uint)(blob.Length - offset - 4))
        {
            return false;
        }

        value = blob.AsSpan(offset + 4, (int)length).ToArray();
        next = offset + 4 + (int)length;
        return true;
    }
}
