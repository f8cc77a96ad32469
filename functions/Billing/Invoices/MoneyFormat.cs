using System.Globalization;

namespace DecentCloud.Functions.Billing.Invoices;

/// <summary>
/// Prints amounts held in minor units ("1,234.56 EUR") and VAT rates ("19.00 %") the way invoices show them.
/// Amounts are split with integer arithmetic only, so no amount is ever rounded on its way to paper.
/// </summary>
public static class MoneyFormat
{
    /// <summary>"1,234.56 EUR": thousands separators, the currency's ISO 4217 decimals, a leading minus when negative.</summary>
    public static string Format(long minor, string currency)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(currency);
        var code = currency.Trim().ToUpperInvariant();
        var exponent = MinorUnitExponent(code);

        // The magnitude as ulong, so that long.MinValue has one too.
        var magnitude = minor < 0 ? (ulong)(-(minor + 1)) + 1 : (ulong)minor;
        var scale = exponent == 3 ? 1000UL : exponent == 2 ? 100UL : 1UL;
        var major = (magnitude / scale).ToString("N0", CultureInfo.InvariantCulture);
        var fraction = exponent == 0 ? "" : "." + (magnitude % scale).ToString("D" + exponent.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        var sign = minor < 0 ? "-" : "";
        return $"{sign}{major}{fraction} {code}";
    }

    /// <summary>
    /// "19.00 %", "8.10 %", "0.00 %": at least two decimals; a rate with more (a rare 8.125) keeps them, because the
    /// rate shown must be the rate charged (docs/billing.md, "Rules").
    /// </summary>
    public static string Rate(decimal percent)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(percent);
        return percent.ToString("0.00######", CultureInfo.InvariantCulture) + " %";
    }

    /// <summary>The ISO 4217 minor-unit exponent: 0 (JPY), 3 (KWD) or, for every other currency, 2.</summary>
    public static int MinorUnitExponent(string currency) => currency.ToUpperInvariant() switch
    {
        "BIF" or "CLP" or "DJF" or "GNF" or "ISK" or "JPY" or "KMF" or "KRW" or "PYG" or "RWF" or "UGX" or "UYI"
            or "VND" or "VUV" or "XAF" or "XOF" or "XPF" => 0,
        "BHD" or "IQD" or "JOD" or "KWD" or "LYD" or "OMR" or "TND" => 3,
        _ => 2,
    };
}
