using System.Text.RegularExpressions;

namespace DecentCloud.Functions.Marketplace.Offerings;

/// <summary>What a provider offers: the body of creating an offering and of an update (which replaces it whole).</summary>
/// <param name="MonthlyPriceMinor">The price of 30 days in minor units of <paramref name="Currency"/> (cents for EUR).</param>
/// <param name="ProvisionerConfigRef">A reference to the provisioner's configuration (never the secret itself).</param>
public sealed partial record OfferingSpec(
    string? Name,
    string? ProductType,
    int? CpuCores,
    int? RamGb,
    int? DiskGb,
    string? Gpu,
    int? BandwidthMbps,
    string? Country,
    string? City,
    long? MonthlyPriceMinor,
    string? Currency,
    int? MinHours,
    int? MaxHours,
    string? ProvisionerType,
    string? ProvisionerConfigRef,
    int? Stock)
{
    public const int MaxNameLength = 100;
    public const int MaxTextLength = 100;
    public const int MaxConfigRefLength = 500;
    public const int MaxCpuCores = 512;

    public static readonly IReadOnlyList<string> ProductTypes = ["vm", "container", "baremetal"];
    public static readonly IReadOnlyList<string> ProvisionerTypes = ["manual", "hetzner", "proxmox", "docker"];

    /// <summary>Field errors keyed by camelCase field name; empty when the offering is acceptable.</summary>
    public static Dictionary<string, string[]> Validate(OfferingSpec? spec)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (spec is null)
        {
            errors["body"] = ["A JSON offering is required."];
            return errors;
        }

        var name = spec.Name?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            errors["name"] = ["Name is required."];
        }
        else if (name.Length > MaxNameLength)
        {
            errors["name"] = [$"Name is at most {MaxNameLength} characters."];
        }

        if (spec.ProductType is null || !ProductTypes.Contains(spec.ProductType))
        {
            errors["productType"] = [$"Product type is one of {string.Join(", ", ProductTypes)}."];
        }

        if (spec.CpuCores is not (>= 1 and <= MaxCpuCores))
        {
            errors["cpuCores"] = [$"CPU cores is 1 to {MaxCpuCores}."];
        }

        if (spec.RamGb is not > 0)
        {
            errors["ramGb"] = ["RAM (GB) is required and above 0."];
        }

        if (spec.DiskGb is not > 0)
        {
            errors["diskGb"] = ["Disk (GB) is required and above 0."];
        }

        if (spec.Gpu?.Trim().Length > MaxTextLength)
        {
            errors["gpu"] = [$"GPU is at most {MaxTextLength} characters."];
        }

        if (spec.BandwidthMbps is not > 0)
        {
            errors["bandwidthMbps"] = ["Bandwidth (Mbit/s) is required and above 0."];
        }

        if (spec.Country is null || !IsCountry(spec.Country))
        {
            errors["country"] = ["Country is an ISO 3166-1 alpha-2 code in upper case (DE)."];
        }

        var city = spec.City?.Trim();
        if (string.IsNullOrEmpty(city))
        {
            errors["city"] = ["City is required."];
        }
        else if (city.Length > MaxTextLength)
        {
            errors["city"] = [$"City is at most {MaxTextLength} characters."];
        }

        if (spec.MonthlyPriceMinor is not >= 0)
        {
            errors["monthlyPriceMinor"] = ["Monthly price (minor units) is required and not negative."];
        }

        if (spec.Currency is null || !IsCurrency(spec.Currency))
        {
            errors["currency"] = ["Currency is an ISO 4217 code of three upper-case letters (EUR)."];
        }

        if (spec.MinHours is not >= 1)
        {
            errors["minHours"] = ["Minimum hours is required and at least 1."];
        }

        if (spec.MaxHours is not { } max || (spec.MinHours is >= 1 and var min && max < min) || max < 1)
        {
            errors["maxHours"] = ["Maximum hours is required and at least the minimum hours."];
        }

        if (spec.ProvisionerType is null || !ProvisionerTypes.Contains(spec.ProvisionerType))
        {
            errors["provisionerType"] = [$"Provisioner type is one of {string.Join(", ", ProvisionerTypes)}."];
        }

        if (spec.ProvisionerConfigRef?.Trim().Length > MaxConfigRefLength)
        {
            errors["provisionerConfigRef"] = [$"Provisioner config reference is at most {MaxConfigRefLength} characters."];
        }

        if (spec.Stock is not >= 0)
        {
            errors["stock"] = ["Stock is required and not negative."];
        }

        return errors;
    }

    public static bool IsCountry(string value) => CountryPattern().IsMatch(value);

    public static bool IsCurrency(string value) => CurrencyPattern().IsMatch(value);

    /// <summary>The stored form: trimmed, blanks as null. Call only on a valid offering.</summary>
    public OfferingSpec Normalized() => this with
    {
        Name = Name!.Trim(),
        City = City!.Trim(),
        Gpu = Blank(Gpu),
        ProvisionerConfigRef = Blank(ProvisionerConfigRef),
    };

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    [GeneratedRegex("^[A-Z]{2}$")]
    private static partial Regex CountryPattern();

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyPattern();
}

/// <summary>An offering as the API shows it.</summary>
/// <param name="Id">The offering's id, unique under its provider.</param>
/// <param name="ProviderPublicKey">The provider's public key, lower-case hex.</param>
public sealed record OfferingView(
    string Id,
    string ProviderPublicKey,
    string Name,
    string ProductType,
    int CpuCores,
    int RamGb,
    int DiskGb,
    string? Gpu,
    int BandwidthMbps,
    string Country,
    string City,
    long MonthlyPriceMinor,
    string Currency,
    int MinHours,
    int MaxHours,
    string ProvisionerType,
    string? ProvisionerConfigRef,
    int Stock,
    bool Hidden,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>One page of a search; <paramref name="Next"/> is the continuation token of the next page, null on the last.</summary>
public sealed record OfferingPage(IReadOnlyList<OfferingView> Items, string? Next);
