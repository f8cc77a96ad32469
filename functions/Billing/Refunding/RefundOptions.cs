using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace DecentCloud.Functions.Billing.Refunding;

/// <summary>
/// When a refund waits for an admin: above a threshold per currency, in minor units, since 1000 of one currency is not
/// 1000 of another. A currency not listed uses the default.
/// </summary>
public sealed class RefundOptions : IValidatableObject
{
    /// <summary><c>EUR=100000;USD=100000</c>: currency code, <c>=</c>, threshold in minor units; pairs separated by <c>;</c> or <c>,</c>.</summary>
    [ConfigurationKeyName("REFUND_APPROVAL_THRESHOLDS")]
    public string? Thresholds { get; set; }

    /// <summary>The threshold for a currency not listed in <see cref="Thresholds"/>.</summary>
    [ConfigurationKeyName("REFUND_APPROVAL_DEFAULT_THRESHOLD_MINOR")]
    [Range(0, long.MaxValue)]
    public long DefaultThresholdMinor { get; set; } = 100_000;

    /// <summary>A refund strictly above this waits for an admin's approval.</summary>
    public long ThresholdFor(string currency) =>
        Parse(out _).GetValueOrDefault(currency.Trim().ToUpperInvariant(), DefaultThresholdMinor);

    public bool AwaitsApproval(long refundMinor, string currency) => refundMinor > ThresholdFor(currency);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        Parse(out var error);
        if (error is not null)
        {
            yield return new ValidationResult(error, [nameof(Thresholds)]);
        }
    }

    private Dictionary<string, long> Parse(out string? error)
    {
        error = null;
        var thresholds = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var pair in (Thresholds ?? "").Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || parts[0].Length != 3 || !parts[0].All(char.IsAsciiLetter)
                || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor))
            {
                error = $"'{pair}' is not CURRENCY=minor units (such as EUR=100000).";
                continue;
            }

            if (!thresholds.TryAdd(parts[0].ToUpperInvariant(), minor))
            {
                error = $"{parts[0].ToUpperInvariant()} is listed twice.";
            }
        }

        return thresholds;
    }
}
