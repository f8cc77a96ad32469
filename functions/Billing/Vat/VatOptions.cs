using System.ComponentModel.DataAnnotations;

namespace DecentCloud.Functions.Billing.Vat;

/// <summary>Where the EU VIES service is and how long one call may take.</summary>
public sealed class VatOptions : IValidatableObject
{
    public const string ViesBaseUrlSetting = "VIES_BASE_URL";
    public const string ViesTimeoutSetting = "VIES_TIMEOUT_SECONDS";

    /// <summary>The VIES REST API's root; <c>check-vat-number</c> is resolved against it, so it ends with a slash.</summary>
    [ConfigurationKeyName(ViesBaseUrlSetting)]
    [Required]
    public Uri ViesBaseUrl { get; set; } = new("https://ec.europa.eu/taxation_customs/vies/rest-api/");

    /// <summary>Seconds one VIES call may take before it counts as VIES being unavailable.</summary>
    [ConfigurationKeyName(ViesTimeoutSetting)]
    [Range(1, 120)]
    public int ViesTimeoutSeconds { get; set; } = 10;

    public TimeSpan ViesTimeout => TimeSpan.FromSeconds(ViesTimeoutSeconds);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ViesBaseUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp)))
        {
            yield return new ValidationResult(
                $"The setting {ViesBaseUrlSetting} must be an absolute http or https URL (the VIES REST API's root, e.g. https://ec.europa.eu/taxation_customs/vies/rest-api/).",
                [nameof(ViesBaseUrl)]);
        }
    }
}
