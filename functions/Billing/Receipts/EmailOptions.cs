using System.ComponentModel.DataAnnotations;
using System.Net.Mail;

namespace DecentCloud.Functions.Billing.Receipts;

/// <summary>How receipts are sent: SendGrid's Mail Send API, its key and the sender.</summary>
public sealed class EmailOptions : IValidatableObject
{
    public const string ApiKeySetting = "SENDGRID_API_KEY";
    public const string FromSetting = "EMAIL_FROM";
    public const string FromNameSetting = "EMAIL_FROM_NAME";
    public const string ApiHostSetting = "SENDGRID_API_HOST";
    public const string DefaultApiHost = "https://api.sendgrid.com";

    /// <summary>A SendGrid API key with the Mail Send permission. Secret: never logged, never put in an exception message.</summary>
    [ConfigurationKeyName(ApiKeySetting)]
    [Required(AllowEmptyStrings = false, ErrorMessage = "The setting SENDGRID_API_KEY is required (a SendGrid API key with the Mail Send permission).")]
    public string ApiKey { get; set; } = "";

    /// <summary>
    /// The sender's address alone (<c>billing@example.com</c>), a verified sender in SendGrid. The display name is
    /// <see cref="FromName"/>; the <c>Name &lt;address&gt;</c> form is refused, so the name has exactly one source.
    /// </summary>
    [ConfigurationKeyName(FromSetting)]
    [Required(AllowEmptyStrings = false, ErrorMessage = "The setting EMAIL_FROM is required (the sender's email address, a verified sender in SendGrid).")]
    public string From { get; set; } = "";

    /// <summary>The sender's display name.</summary>
    [ConfigurationKeyName(FromNameSetting)]
    public string FromName { get; set; } = "Decent Cloud";

    /// <summary>Where the Mail Send API lives; tests point it at a local stand-in.</summary>
    [ConfigurationKeyName(ApiHostSetting)]
    public string ApiHost { get; set; } = DefaultApiHost;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(From) && !IsBareAddress(From))
        {
            // The value is an operator's own sender address, not a customer's, so naming it helps more than it exposes.
            yield return new ValidationResult(
                $"The setting {FromSetting} must be an email address alone (billing@example.com), not '{From}'; the display name goes in {FromNameSetting}.",
                [nameof(From)]);
        }

        if (!Uri.TryCreate(ApiHost, UriKind.Absolute, out var host) || (host.Scheme != Uri.UriSchemeHttps && host.Scheme != Uri.UriSchemeHttp))
        {
            yield return new ValidationResult(
                $"The setting {ApiHostSetting} must be an absolute http(s) URL such as {DefaultApiHost}, not '{ApiHost}'.",
                [nameof(ApiHost)]);
        }
    }

    /// <summary>True for <c>user@domain.tld</c> with nothing around it: no display name, no angle brackets, no spaces.</summary>
    internal static bool IsBareAddress(string value) =>
        MailAddress.TryCreate(value, out var address)
        && address.DisplayName.Length == 0
        && address.Host.Contains('.', StringComparison.Ordinal)
        && string.Equals(address.Address, value, StringComparison.Ordinal)
        && !value.Any(char.IsWhiteSpace);
}
