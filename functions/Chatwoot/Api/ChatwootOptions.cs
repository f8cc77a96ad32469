using System.ComponentModel.DataAnnotations;

namespace DecentCloud.Functions.Chatwoot.Api;

/// <summary>Where Chatwoot is, which account the platform uses, and the two tokens it calls with.</summary>
/// <remarks>
/// The tokens are not required at start-up on purpose: the app has plenty to do without Chatwoot (contracts, billing),
/// and a Chatwoot installation is often set up after the app is deployed. A call made while a token is empty fails at
/// once with a <see cref="ChatwootException"/> naming the setting, so the provider onboarding that needs it stops
/// visibly (and is retried as its orchestration decides) instead of the whole host refusing to start.
/// </remarks>
public sealed class ChatwootOptions : IValidatableObject
{
    public const string BaseUrlSetting = "CHATWOOT_BASE_URL";
    public const string AccountIdSetting = "CHATWOOT_ACCOUNT_ID";
    public const string ApiTokenSetting = "CHATWOOT_API_TOKEN";
    public const string PlatformTokenSetting = "CHATWOOT_PLATFORM_TOKEN";
    public const string TimeoutSetting = "CHATWOOT_TIMEOUT_SECONDS";

    /// <summary>The installation's root (the address its dashboard is served from); <c>api/v1/…</c> is resolved against it.</summary>
    [ConfigurationKeyName(BaseUrlSetting)]
    [Required]
    public Uri BaseUrl { get; set; } = new("http://127.0.0.1:3000");

    /// <summary>The numeric id of the Chatwoot account that holds every provider's inbox, team and portal.</summary>
    [ConfigurationKeyName(AccountIdSetting)]
    [Range(1, int.MaxValue)]
    public int AccountId { get; set; } = 1;

    /// <summary>
    /// The access token of a user with the <c>administrator</c> role in <see cref="AccountId"/> (Profile page → Access
    /// Token); used for everything under <c>/api/v1/accounts/{account_id}/</c>. Secret.
    /// </summary>
    [ConfigurationKeyName(ApiTokenSetting)]
    public string? ApiToken { get; set; }

    /// <summary>
    /// The token of a Platform App (Super Admin → Platform Apps); used only for <c>/platform/api/v1/</c> (creating agent
    /// users and adding them to the account). Secret.
    /// </summary>
    [ConfigurationKeyName(PlatformTokenSetting)]
    public string? PlatformToken { get; set; }

    /// <summary>Seconds one Chatwoot call may take; a call that takes longer fails as retryable.</summary>
    [ConfigurationKeyName(TimeoutSetting)]
    [Range(1, 300)]
    public int TimeoutSeconds { get; set; } = 15;

    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (BaseUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp)))
        {
            yield return new ValidationResult(
                $"The setting {BaseUrlSetting} must be an absolute http or https URL (the Chatwoot installation's root, e.g. https://chat.example.org/).",
                [nameof(BaseUrl)]);
        }
    }
}
