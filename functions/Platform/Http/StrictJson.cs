using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace DecentCloud.Functions.Platform.Http;

/// <summary>
/// The rule for a JSON body a function reads by hand from its raw bytes (the webhooks, whose signature is over those
/// bytes): strict UTF-8 (no invalid, overlong or surrogate byte sequences, no byte order mark), exactly one JSON document
/// with nothing after it, nesting at most 64 deep, and no lone surrogate escape (<c>\ud800</c>) in any string or property
/// name, since no .NET string can hold one. Bodies bound to a typed parameter get the same rule from System.Text.Json.
/// </summary>
public static class StrictJson
{
    /// <summary>The body as text when it keeps the rule; otherwise false, with what is wrong (for problem details and logs).</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, [NotNullWhen(true)] out string? text, [NotNullWhen(false)] out string? problem)
    {
        text = null;
        if (!Utf8.IsValid(body))
        {
            problem = "The body is not valid UTF-8.";
            return false;
        }

        if (Problem(body) is { } found)
        {
            problem = found;
            return false;
        }

        text = Encoding.UTF8.GetString(body);
        problem = null;
        return true;
    }

    private static string? Problem(ReadOnlySpan<byte> body)
    {
        // Default reader options: no comments, no trailing commas, depth 64, and a second document after the first is an error.
        var reader = new Utf8JsonReader(body);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped && HasLoneSurrogate(reader.ValueSpan))
                {
                    return $"The body holds a lone surrogate escape (\\uD800-\\uDFFF without its pair) at byte {reader.TokenStartIndex}.";
                }
            }

            return null;
        }
        catch (JsonException ex)
        {
            return $"The body is not one JSON document: {ex.Message}";
        }
    }

    /// <summary>
    /// Whether an escaped JSON string (as it is in the body, already checked by the reader) has a <c>\uXXXX</c> surrogate
    /// without its pair: a high one not followed by a low one, or a low one on its own. A raw surrogate cannot occur:
    /// valid UTF-8 has none.
    /// </summary>
    private static bool HasLoneSurrogate(ReadOnlySpan<byte> escaped)
    {
        for (var i = 0; i < escaped.Length; i++)
        {
            if (escaped[i] != '\\')
            {
                continue;
            }

            if (escaped[i + 1] != 'u')
            {
                i++;
                continue;
            }

            var unit = CodeUnit(escaped.Slice(i + 2, 4));
            i += 5;
            if (char.IsLowSurrogate(unit))
            {
                return true;
            }

            if (char.IsHighSurrogate(unit))
            {
                if (i + 6 < escaped.Length && escaped[i + 1] == '\\' && escaped[i + 2] == 'u' && char.IsLowSurrogate(CodeUnit(escaped.Slice(i + 3, 4))))
                {
                    i += 6;
                }
                else
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static char CodeUnit(ReadOnlySpan<byte> hex)
    {
        var value = 0;
        foreach (var digit in hex)
        {
            value = (value << 4) | (digit <= '9' ? digit - '0' : (digit | 0x20) - 'a' + 10);
        }

        return (char)value;
    }
}
