using System.ComponentModel.DataAnnotations;

namespace DecentCloud.Functions.Chatwoot.Webhooks;

/// <summary>
/// Settings of the Chatwoot webhook. Both are optional: API-inbox deliveries verify with the inbox secrets and URL
/// tokens the onboarding records in <see cref="ChatwootWebhookKeys"/>, not with a setting.
/// </summary>
public sealed class ChatwootWebhookOptions
{
    /// <summary>
    /// The <c>secret</c> of an account webhook an administrator created (docs/chatwoot.md, "Account webhooks"). Chatwoot 4.12 and later sign
    /// that webhook's deliveries with it. Unset: only inbox secrets and URL tokens verify. Secret.
    /// </summary>
    [ConfigurationKeyName("CHATWOOT_WEBHOOK_SECRET")]
    public string? AccountWebhookSecret { get; set; }

    /// <summary>
    /// How far <c>X-Chatwoot-Timestamp</c> may be from now, either way, in seconds. Chatwoot sets no tolerance of its own
    /// and does not retry account or inbox deliveries, so this only bounds how long a captured delivery can be replayed.
    /// </summary>
    [ConfigurationKeyName("CHATWOOT_WEBHOOK_TOLERANCE_SECONDS")]
    [Range(1, 3600)]
    public int ToleranceSeconds { get; set; } = 300;
}
