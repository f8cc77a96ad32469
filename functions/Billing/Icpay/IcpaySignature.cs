using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace DecentCloud.Functions.Billing.Icpay;

/// <summary>
/// ICPay's webhook signature (docs/icpay.md): <c>X-ICPay-Signature: t={unix seconds},v1={hex}</c>, where v1 is
/// HMAC-SHA256, keyed with the UTF-8 bytes of the secret, over the ASCII of <c>"{t}."</c> followed by the raw body
/// exactly as received. The timestamp must be within the tolerance of now, either way. Pure, so the recorded vectors
/// run against it directly.
/// </summary>
public static class IcpaySignature
{
    public const string HeaderName = "X-ICPay-Signature";

    private const int HexLength = SHA256.HashSizeInBytes * 2;

    /// <summary>Null when the header verifies; otherwise why it does not (for the log and the problem details, never the secret).</summary>
    public static string? Problem(string header, ReadOnlySpan<byte> body, string secret, long nowUnixSeconds, int toleranceSeconds)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentException.ThrowIfNullOrEmpty(secret);

        string? timestamp = null;
        var candidates = new List<string>();
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            var (key, value) = (part[..equals], part[(equals + 1)..]);
            if (key == "t")
            {
                if (timestamp is not null)
                {
                    return "the header has more than one t";
                }

                timestamp = value;
            }
            else if (key == "v1")
            {
                // Several v1 values (a sender rotating its key) are allowed; one that verifies is enough.
                candidates.Add(value);
            }
        }

        if (timestamp is null || candidates.Count == 0)
        {
            return "the header is not t=<unix seconds>,v1=<hex>";
        }

        // Digits only: the signed text is the header's own t, so "+5" or " 5" must not pass for 5.
        if (timestamp.Length is 0 or > 12 || !timestamp.All(char.IsAsciiDigit)
            || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var signedAt))
        {
            return "its t is not a time in unix seconds";
        }

        if (Math.Abs(nowUnixSeconds - signedAt) > toleranceSeconds)
        {
            return $"its timestamp is more than {toleranceSeconds} s from now";
        }

        var expected = Compute(timestamp, body, secret);
        var verified = false;
        Span<byte> given = stackalloc byte[SHA256.HashSizeInBytes];
        foreach (var candidate in candidates)
        {
            if (candidate.Length == HexLength && Convert.FromHexString(candidate, given, out _, out var written) == System.Buffers.OperationStatus.Done && written == given.Length)
            {
                // Every candidate is compared, in constant time, so the time taken says nothing about which bytes matched.
                verified |= CryptographicOperations.FixedTimeEquals(given, expected);
            }
        }

        return verified ? null : "no v1 matches the body and the secret";
    }

    /// <summary>HMAC-SHA256 of <c>"{t}." + body</c> keyed with the secret: what ICPay puts in v1 (as lower-case hex).</summary>
    public static byte[] Compute(string timestamp, ReadOnlySpan<byte> body, string secret)
    {
        var prefix = Encoding.ASCII.GetBytes(timestamp + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message);
    }

    /// <summary>The header ICPay would send for this body at this time (for tests and local trials).</summary>
    public static string Header(long unixSeconds, ReadOnlySpan<byte> body, string secret)
    {
        var t = unixSeconds.ToString(CultureInfo.InvariantCulture);
        return $"t={t},v1={Convert.ToHexStringLower(Compute(t, body, secret))}";
    }
}
