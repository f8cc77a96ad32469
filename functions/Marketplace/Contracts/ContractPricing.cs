namespace DecentCloud.Functions.Marketplace.Contracts;

/// <summary>The hours an offering may be rented for; null means no bound on that side.</summary>
public readonly record struct HourBounds(int? MinHours, int? MaxHours)
{
    public static HourBounds None => default;
}

/// <summary>The answer of <see cref="ContractPricing.Price"/>: a price, or a refusal with a reason fit for problem details.</summary>
public abstract record PriceResult
{
    private PriceResult()
    {
    }

    public sealed record Priced(long PriceMinor, int Hours) : PriceResult;

    public sealed record Refused(string Reason) : PriceResult;
}

/// <summary>
/// Price = monthly price × hours / 720 (docs/contracts.md, "Price"), in integer minor units.
/// Rounding rule: the price rounds UP to the next minor unit (ceiling). A price of 0 waives the payment
/// requirement (see <see cref="ContractStateMachine"/>), so a priced offering must never round down to
/// a free contract; the renter pays less than one minor unit above the exact share, and whole months
/// (multiples of 720 hours) are exact. Refunds follow the same rule from the provider's side
/// (see <see cref="Billing.Refunding.RefundRules"/>).
/// </summary>
public static class ContractPricing
{
    public const int HoursPerMonth = 720;
    public const int DefaultHours = HoursPerMonth;

    public static PriceResult Price(long monthlyPriceMinor, int? hours = null, HourBounds bounds = default)
    {
        var term = hours ?? DefaultHours;
        if (monthlyPriceMinor < 0)
        {
            return new PriceResult.Refused($"The monthly price must not be negative; it is {monthlyPriceMinor} minor units.");
        }

        if (term <= 0)
        {
            return new PriceResult.Refused($"A contract runs for at least 1 hour; {term} hours were asked for.");
        }

        if (bounds is { MinHours: { } min, MaxHours: { } max } && min > max)
        {
            return new PriceResult.Refused($"The offering's minimum of {min} hours is above its maximum of {max} hours.");
        }

        if (bounds.MinHours is { } minHours && term < minHours)
        {
            return new PriceResult.Refused($"{term} hours is below the offering's minimum of {minHours} hours.");
        }

        if (bounds.MaxHours is { } maxHours && term > maxHours)
        {
            return new PriceResult.Refused($"{term} hours is above the offering's maximum of {maxHours} hours.");
        }

        var price = CeilingDivide((Int128)monthlyPriceMinor * term, HoursPerMonth);
        if (price > long.MaxValue)
        {
            return new PriceResult.Refused($"The price of {term} hours at {monthlyPriceMinor} minor units a month does not fit in a 64-bit amount.");
        }

        return new PriceResult.Priced((long)price, term);
    }

    /// <summary>Ceiling of <paramref name="numerator"/> / <paramref name="denominator"/> for a non-negative numerator and a positive denominator.</summary>
    internal static Int128 CeilingDivide(Int128 numerator, Int128 denominator) =>
        (numerator + denominator - 1) / denominator;
}
