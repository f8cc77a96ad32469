using System.Text;

namespace DecentCloud.Tests.Deploy;

/// <summary>
/// Just enough of the ARM template expression language to read what Bicep compiles: a call's top-level arguments
/// (<c>union(createObject('A', x), parameters('b'))</c>) and the pairs of a <c>createObject</c>.
/// </summary>
public static class ArmExpression
{
    /// <summary>The expression inside <c>[...]</c>, or null for a plain string value.</summary>
    public static string? Body(string value) =>
        value.Length > 1 && value[0] == '[' && value[^1] == ']' && !value.StartsWith("[[", StringComparison.Ordinal)
            ? value[1..^1]
            : null;

    /// <summary>The top-level arguments of <paramref name="expression"/>, which must be a call of <paramref name="function"/>.</summary>
    public static IReadOnlyList<string> Arguments(string expression, string function)
    {
        var text = expression.Trim();
        if (!text.StartsWith(function + "(", StringComparison.Ordinal) || text[^1] != ')')
        {
            throw new FormatException($"Expected a call of {function}(...), found: {Shorten(text)}");
        }

        var inner = text[(function.Length + 1)..^1];
        var arguments = new List<string>();
        var current = new StringBuilder();
        var depth = 0;
        var inString = false;
        for (var i = 0; i < inner.Length; i++)
        {
            var c = inner[i];
            if (inString)
            {
                current.Append(c);
                if (c == '\'')
                {
                    // '' is an escaped quote inside a string literal.
                    if (i + 1 < inner.Length && inner[i + 1] == '\'')
                    {
                        current.Append(inner[++i]);
                    }
                    else
                    {
                        inString = false;
                    }
                }

                continue;
            }

            switch (c)
            {
                case '\'':
                    inString = true;
                    current.Append(c);
                    break;
                case '(' or '[':
                    depth++;
                    current.Append(c);
                    break;
                case ')' or ']':
                    depth--;
                    current.Append(c);
                    break;
                case ',' when depth == 0:
                    arguments.Add(current.ToString().Trim());
                    current.Clear();
                    break;
                default:
                    current.Append(c);
                    break;
            }
        }

        if (inString || depth != 0)
        {
            throw new FormatException($"Unbalanced expression: {Shorten(text)}");
        }

        if (current.Length > 0)
        {
            arguments.Add(current.ToString().Trim());
        }

        return arguments;
    }

    /// <summary>The pairs of a <c>createObject('key', value, ...)</c> call: each key unquoted, each value as written.</summary>
    public static IReadOnlyDictionary<string, string> CreateObject(string expression)
    {
        var arguments = Arguments(expression, "createObject");
        if (arguments.Count % 2 != 0)
        {
            throw new FormatException($"createObject with an odd number of arguments: {Shorten(expression)}");
        }

        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < arguments.Count; i += 2)
        {
            pairs.Add(StringLiteral(arguments[i]), arguments[i + 1]);
        }

        return pairs;
    }

    /// <summary>The text of a string literal (<c>'abc'</c>).</summary>
    public static string StringLiteral(string expression)
    {
        var text = expression.Trim();
        if (text.Length < 2 || text[0] != '\'' || text[^1] != '\'')
        {
            throw new FormatException($"Expected a string literal, found: {Shorten(text)}");
        }

        return text[1..^1].Replace("''", "'", StringComparison.Ordinal);
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";
}
