using System.Text;
using System.Text.RegularExpressions;

namespace DecentCloud.Functions.Billing.Vat;

/// <summary>
/// EU VAT identification numbers as typed by people ("de 123.456-789") and as VIES wants them: a two-letter
/// prefix (EL for Greece, not GR) and the number, upper case, without separators.
/// </summary>
public static partial class VatIds
{
    /// <summary>Upper case, without spaces, dots or dashes: "EL 123-456.789" becomes "EL123456789".</summary>
    public static string Normalize(string vatId)
    {
        ArgumentNullException.ThrowIfNull(vatId);
        var compact = new StringBuilder(vatId.Length);
        foreach (var c in vatId)
        {
            if (!char.IsWhiteSpace(c) && c is not ('.' or '-'))
            {
                compact.Append(char.ToUpperInvariant(c));
            }
        }

        return compact.ToString();
    }

    /// <summary>
    /// Two letters then 2 to 13 letters or digits, after <see cref="Normalize"/>: the widest of the member states'
    /// formats (NL123456789B01, FRXX123456789, ATU12345678). The number itself is for VIES to judge.
    /// </summary>
    public static bool IsWellFormed(string normalized) => WellFormed().IsMatch(normalized);

    /// <summary>For logs and error messages: the prefix and the last three characters ("DE******789").</summary>
    public static string Mask(string vatId)
    {
        var normalized = Normalize(vatId);
        if (normalized.Length <= 2)
        {
            return new string('*', normalized.Length);
        }

        var number = normalized.Length - 2;
        var shown = number > 4 ? 3 : 0;
        return string.Concat(normalized.AsSpan(0, 2), new string('*', number - shown), normalized.AsSpan(normalized.Length - shown));
    }

    [GeneratedRegex("^[A-Z]{2}[A-Z0-9]{2,13}$", RegexOptions.CultureInvariant)]
    private static partial Regex WellFormed();
}
