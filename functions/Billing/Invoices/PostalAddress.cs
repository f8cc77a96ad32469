using System.Text.RegularExpressions;

namespace DecentCloud.Functions.Billing.Invoices;

/// <summary>
/// An address written as lines (the seller's <c>INVOICE_SELLER_ADDRESS</c>: street first, postal code and city last),
/// split into the fields an invoice party has. The one parser for the seller's address: the PDF and the invoice
/// metadata both print the party it gives.
/// </summary>
public sealed partial record PostalAddress(string Line1, string? Line2, string PostalCode, string City)
{
    /// <summary>
    /// The first line is the street, lines between are joined as the second line, and the last line is read as postal
    /// code and city in either order: <c>10115 Berlin</c>, <c>1012 AB Amsterdam</c>, <c>00-950 Warszawa</c>,
    /// <c>London SW1A 1AA</c>, <c>Dublin D02 X285</c>. A last line with no postal code is all city.
    /// </summary>
    public static PostalAddress FromLines(IReadOnlyList<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        if (lines.Count == 0)
        {
            throw new ArgumentException("An address needs at least one line.", nameof(lines));
        }

        if (lines.Count == 1)
        {
            return new PostalAddress(lines[0], null, "", "");
        }

        var line2 = lines.Count > 2 ? string.Join(", ", lines.Skip(1).Take(lines.Count - 2)) : null;
        var (postalCode, city) = PostalCodeAndCity(lines[^1]);
        return new PostalAddress(lines[0], line2, postalCode, city);
    }

    public static (string PostalCode, string City) PostalCodeAndCity(string line)
    {
        var trimmed = line.Trim();
        if (CodeFirst().Match(trimmed) is { Success: true } first)
        {
            return (first.Groups["code"].Value, first.Groups["city"].Value.Trim());
        }

        if (CodeLast().Match(trimmed) is { Success: true } last)
        {
            return (last.Groups["code"].Value, last.Groups["city"].Value.Trim().TrimEnd(','));
        }

        return ("", trimmed);
    }

    /// <summary>Digits first, perhaps with a country prefix (<c>D-</c>), a separator and a second group (<c>123 45</c>, <c>1012 AB</c>).</summary>
    [GeneratedRegex(@"^(?<code>(?:[A-Z]{1,3}-)?\d{2,6}(?:[ -]\d{2,3})?(?: [A-Z]{2}(?= ))?)\s+(?<city>\D.*)$")]
    private static partial Regex CodeFirst();

    /// <summary>The city first and a code holding a digit last (<c>London SW1A 1AA</c>, <c>Berlin 10115</c>).</summary>
    [GeneratedRegex(@"^(?<city>.*?\D),?\s+(?<code>(?=[A-Z0-9 ]*\d)[A-Z0-9]{2,6}(?: [A-Z0-9]{3,4})?)$")]
    private static partial Regex CodeLast();
}
