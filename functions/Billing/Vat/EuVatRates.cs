using System.Collections.Frozen;
using System.Text.Json;

namespace DecentCloud.Functions.Billing.Vat;

/// <summary>
/// The EU standard-rate table (eu-vat-rates.json, embedded in the assembly), read once. It decides VAT only
/// when Stripe Tax gave no figures (docs/billing.md, "VAT").
/// </summary>
public sealed class EuVatRates
{
    public const string ResourceName = "DecentCloud.Vat.eu-vat-rates.json";

    private static readonly Lazy<EuVatRates> Embedded = new(LoadEmbedded);

    private readonly FrozenDictionary<string, decimal> rates;

    private EuVatRates(FrozenDictionary<string, decimal> rates, string asOf, string source)
    {
        this.rates = rates;
        AsOf = asOf;
        Source = source;
    }

    /// <summary>The table shipped with the app.</summary>
    public static EuVatRates Default => Embedded.Value;

    /// <summary>The day the rates were last checked against <see cref="Source"/> (yyyy-MM-dd).</summary>
    public string AsOf { get; }

    public string Source { get; }

    /// <summary>The member states' ISO 3166-1 alpha-2 codes (GR for Greece).</summary>
    public IReadOnlyCollection<string> Members => rates.Keys;

    public bool IsMember(string country) => rates.ContainsKey(Normalize(country));

    /// <summary>The standard rate in percent (19 for 19 %, 25.5 for 25.5 %).</summary>
    public decimal StandardRate(string country) =>
        rates.TryGetValue(Normalize(country), out var rate)
            ? rate
            : throw new ArgumentException($"'{country}' is not an EU member state (ISO 3166-1 alpha-2; Greece is GR).", nameof(country));

    internal static EuVatRates Parse(Stream json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var asOf = root.GetProperty("asOf").GetString();
        var source = root.GetProperty("source").GetString();
        if (!DateOnly.TryParseExact(asOf, "yyyy-MM-dd", out _) || string.IsNullOrWhiteSpace(source))
        {
            throw new InvalidDataException("The VAT rate table needs asOf (yyyy-MM-dd) and source.");
        }

        var rates = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var entry in root.GetProperty("standardRates").EnumerateObject())
        {
            var rate = entry.Value.GetDecimal();
            // VatDecision computes in hundredths of a percent; a rate with more decimals would be rounded silently.
            if (entry.Name.Length != 2 || !entry.Name.All(char.IsAsciiLetterUpper) || rate is <= 0 or >= 100 || decimal.Round(rate, 2) != rate)
            {
                throw new InvalidDataException($"The VAT rate table has a bad entry '{entry.Name}': {entry.Value.GetRawText()}.");
            }

            rates.Add(entry.Name, rate);
        }

        if (rates.Count != 27)
        {
            throw new InvalidDataException($"The VAT rate table must list the 27 member states; it lists {rates.Count}.");
        }

        return new EuVatRates(rates.ToFrozenDictionary(StringComparer.Ordinal), asOf!, source!);
    }

    private static EuVatRates LoadEmbedded()
    {
        using var stream = typeof(EuVatRates).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from the assembly.");
        try
        {
            return Parse(stream);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new InvalidDataException($"reading the VAT rate table {ResourceName}", ex);
        }
    }

    private static string Normalize(string country) => country.Trim().ToUpperInvariant();
}
