using System.Buffers;

namespace DecentCloud.Functions.Platform;

/// <summary>
/// What a value must be to serve as an Azure Table key (and so as a blob or message id made from it): at most
/// <see cref="MaxLength"/> characters, none of <c>/ \ # ?</c> and no control character (U+0000–U+001F, U+007F–U+009F).
/// Storage refuses other values only after its client has retried them for seconds; checked first, they are a 400.
/// </summary>
public static class StorageKeys
{
    /// <summary>Far below a key's 1 KiB, so a key made of two ids with a separator still fits.</summary>
    public const int MaxLength = 256;

    private static readonly SearchValues<char> Forbidden = SearchValues.Create(
        "/\\#?" + new string([.. Enumerable.Range(0x00, 0x20).Concat(Enumerable.Range(0x7f, 0x21)).Select(c => (char)c)]));

    /// <summary>What keeps <paramref name="value"/> from being a key, as the end of a sentence; null when it can be one.</summary>
    public static string? Problem(string value) =>
        value.Length > MaxLength ? $"is {value.Length} characters long; at most {MaxLength} are accepted"
        : value.AsSpan().ContainsAny(Forbidden) ? "holds a character no id can hold: / \\ # ? or a control character"
        : null;
}
