using System.Text;

namespace DecentCloud.Functions.Chatwoot.Api;

/// <summary>The Help Center portal slug for a provider (docs/chatwoot.md, "Rules": the name, at most 40 characters, plus a key suffix).</summary>
/// <remarks>
/// Chatwoot does not check a slug's format, but it is a path segment of the public Help Center (<c>/hc/{slug}</c>) and
/// unique across the whole installation, so it is kept to lower-case ASCII letters, digits and single hyphens, and the
/// first 8 hex characters of the provider's key keep two providers with the same name apart.
/// </remarks>
public static class ChatwootSlug
{
    public const int MaxNameLength = 40;
    public const int KeySuffixLength = 8;
    public const string Fallback = "provider";

    /// <summary>Common accented Latin letters and what they read as; the app runs with invariant globalization, which does not decompose.</summary>
    private static readonly (string Letters, string Plain)[] Folds =
    [
        ("àáâãäåāăą", "a"), ("çćĉċč", "c"), ("ďđ", "d"), ("èéêëēĕėęě", "e"), ("ĝğġģ", "g"), ("ĥħ", "h"),
        ("ìíîïĩīĭįı", "i"), ("ĵ", "j"), ("ķ", "k"), ("ĺļľŀł", "l"), ("ñńņňŉ", "n"), ("òóôõöøōŏő", "o"),
        ("ŕŗř", "r"), ("śŝşšș", "s"), ("ţťŧț", "t"), ("ùúûüũūŭůűų", "u"), ("ŵ", "w"), ("ýÿŷ", "y"), ("źżž", "z"),
        ("ß", "ss"), ("æ", "ae"), ("œ", "oe"), ("þ", "th"), ("ð", "d"),
    ];

    /// <example><c>For("Acme Cloud GmbH", "1a2b3c4d…")</c> is <c>acme-cloud-gmbh-1a2b3c4d</c>.</example>
    /// <exception cref="ArgumentException">The key does not start with 8 hex characters.</exception>
    public static string For(string providerName, string providerKeyHex)
    {
        ArgumentNullException.ThrowIfNull(providerName);
        ArgumentNullException.ThrowIfNull(providerKeyHex);
        if (providerKeyHex.Length < KeySuffixLength || !providerKeyHex[..KeySuffixLength].All(char.IsAsciiHexDigit))
        {
            throw new ArgumentException($"The provider key must start with {KeySuffixLength} hex characters.", nameof(providerKeyHex));
        }

        var name = new StringBuilder(providerName.Length);
        foreach (var c in providerName.ToLowerInvariant())
        {
            var plain = char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) ? c.ToString() : Fold(c);
            if (plain is null)
            {
                // Anything else (spaces, punctuation, other scripts) separates words; runs collapse to one hyphen.
                if (name.Length > 0 && name[^1] != '-')
                {
                    name.Append('-');
                }
            }
            else
            {
                name.Append(plain);
            }
        }

        var slug = name.ToString().Trim('-');
        if (slug.Length > MaxNameLength)
        {
            slug = slug[..MaxNameLength].TrimEnd('-');
        }

        if (slug.Length == 0)
        {
            slug = Fallback;
        }

        return $"{slug}-{providerKeyHex[..KeySuffixLength].ToLowerInvariant()}";
    }

    private static string? Fold(char c)
    {
        foreach (var (letters, plain) in Folds)
        {
            if (letters.Contains(c, StringComparison.Ordinal))
            {
                return plain;
            }
        }

        return null;
    }
}
