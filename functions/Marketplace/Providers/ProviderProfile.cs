using System.Net.Mail;
using System.Text.RegularExpressions;

namespace DecentCloud.Functions.Marketplace.Providers;

/// <summary>What a provider says about itself: the body of onboarding and of an update.</summary>
/// <param name="Sla">The service level the provider promises, in its own words.</param>
public sealed record ProviderProfile(
    string? Name,
    string? Description,
    string? Website,
    string? SupportEmail,
    IReadOnlyList<string>? Regions,
    string? Sla,
    string? RefundPolicy)
{
    public const int MaxNameLength = 100;
    public const int MaxTextLength = 2000;
    public const int MaxRegions = 50;
    public const int MaxRegionLength = 50;

    /// <summary>Field errors keyed by camelCase field name; empty when the profile is acceptable.</summary>
    public static Dictionary<string, string[]> Validate(ProviderProfile? profile)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (profile is null)
        {
            errors["body"] = ["A JSON provider profile is required."];
            return errors;
        }

        var name = profile.Name?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            errors["name"] = ["Name is required."];
        }
        else if (name.Length > MaxNameLength)
        {
            errors["name"] = [$"Name is at most {MaxNameLength} characters."];
        }

        if (profile.Description?.Length > MaxTextLength)
        {
            errors["description"] = [$"Description is at most {MaxTextLength} characters."];
        }

        if (!string.IsNullOrWhiteSpace(profile.Website)
            && !(Uri.TryCreate(profile.Website.Trim(), UriKind.Absolute, out var website) && (website.Scheme == Uri.UriSchemeHttps || website.Scheme == Uri.UriSchemeHttp)))
        {
            errors["website"] = ["Website must be an absolute http or https URL."];
        }

        if (string.IsNullOrWhiteSpace(profile.SupportEmail))
        {
            errors["supportEmail"] = ["Support email is required."];
        }
        else if (!IsEmail(profile.SupportEmail.Trim()))
        {
            errors["supportEmail"] = ["Support email is not a valid email address."];
        }

        if (profile.Regions is not { Count: > 0 } regions)
        {
            errors["regions"] = ["At least one region is required."];
        }
        else if (regions.Count > MaxRegions)
        {
            errors["regions"] = [$"At most {MaxRegions} regions."];
        }
        else if (regions.Any(r => string.IsNullOrWhiteSpace(r) || r.Trim().Length > MaxRegionLength))
        {
            errors["regions"] = [$"Each region is 1 to {MaxRegionLength} characters."];
        }

        if (profile.Sla?.Length > MaxTextLength)
        {
            errors["sla"] = [$"SLA is at most {MaxTextLength} characters."];
        }

        if (profile.RefundPolicy?.Length > MaxTextLength)
        {
            errors["refundPolicy"] = [$"Refund policy is at most {MaxTextLength} characters."];
        }

        return errors;
    }

    /// <summary>The stored form: trimmed, blanks as null, regions without duplicates. Call only on a valid profile.</summary>
    public ProviderProfile Normalized() => new(
        Name!.Trim(),
        Blank(Description),
        Blank(Website),
        SupportEmail!.Trim(),
        Regions!.Select(r => r.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
        Blank(Sla),
        Blank(RefundPolicy));

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static bool IsEmail(string value) =>
        MailAddress.TryCreate(value, out var address)
        && string.Equals(address.Address, value, StringComparison.Ordinal)
        && Regex.IsMatch(value, @"^[^@\s]+@[^@\s]+\.[^@\s]+$", RegexOptions.None, TimeSpan.FromSeconds(1));
}

/// <summary>A provider as the API shows it.</summary>
/// <param name="PublicKey">The provider's Ed25519 public key, lower-case hex: its identity.</param>
public sealed record ProviderView(
    string PublicKey,
    string Name,
    string? Description,
    string? Website,
    string SupportEmail,
    IReadOnlyList<string> Regions,
    string? Sla,
    string? RefundPolicy,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>The payload of the <c>provider-onboarded</c> event.</summary>
public sealed record ProviderOnboarded(string PublicKey, string Name, string SupportEmail, string? Website, IReadOnlyList<string> Regions);
