using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace DecentCloud.Shared.Signing;

/// <summary>Hex of a fixed byte length, with an error that says what was wrong (keys and signatures arrive from users' tools).</summary>
internal static class Hex
{
    private static readonly SearchValues<char> Digits = SearchValues.Create("0123456789abcdefABCDEF");

    public static bool TryDecode(string? text, int byteLength, string what, [NotNullWhen(true)] out byte[]? bytes, [NotNullWhen(false)] out string? error)
    {
        bytes = null;
        if (string.IsNullOrEmpty(text))
        {
            error = $"{what} is empty; expected {byteLength * 2} hex characters ({byteLength} bytes).";
            return false;
        }

        if (text.Length != byteLength * 2)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"{what} must be {byteLength * 2} hex characters ({byteLength} bytes); got {text.Length} characters.");
            return false;
        }

        var bad = text.AsSpan().IndexOfAnyExcept(Digits);
        if (bad >= 0)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"{what} is not hex: character {bad} is not 0-9, a-f or A-F.");
            return false;
        }

        bytes = Convert.FromHexString(text);
        error = null;
        return true;
    }

    public static byte[] Decode(string? text, int byteLength, string what) =>
        TryDecode(text, byteLength, what, out var bytes, out var error) ? bytes : throw new FormatException(error);

    public static string Encode(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}
