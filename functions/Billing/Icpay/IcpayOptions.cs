using System.ComponentModel.DataAnnotations;

namespace DecentCloud.Functions.Billing.Icpay;

/// <summary>
/// ICPay settings (docs/icpay.md). The secret is optional on purpose: ICPay is a second payment rail, and an app without
/// it still takes Stripe payments. While it is missing, the ICPay webhook and the ICPay checkout answer 503 and store
/// nothing (the webhook logs each refusal, event 8701).
/// </summary>
public sealed class IcpayOptions
{
    /// <summary>
    /// The key ICPay signs webhooks with: the account's secret key (<c>sk_…</c>) per ICPay's docs. Secret.
    /// </summary>
    [ConfigurationKeyName("ICPAY_WEBHOOK_SECRET")]
    public string? WebhookSecret { get; set; }

    /// <summary>How far a webhook's signed timestamp may be from now, either way, in seconds (ICPay documents 300).</summary>
    [ConfigurationKeyName("ICPAY_WEBHOOK_TOLERANCE_SECONDS")]
    [Range(1, 3600)]
    public int WebhookToleranceSeconds { get; set; } = 300;

    /// <summary>An event row still <c>received</c> this long after it arrived is queued again; each next re-drive waits twice as long.</summary>
    [ConfigurationKeyName("ICPAY_REDRIVE_AFTER_MINUTES")]
    [Range(1, 1440)]
    public int RedriveAfterMinutes { get; set; } = 5;

    /// <summary>After this many re-drives an event is left to the poison queue and the admins (logged at Error once).</summary>
    [ConfigurationKeyName("ICPAY_REDRIVE_MAX")]
    [Range(0, 20)]
    public int MaxRedrives { get; set; } = 5;

    public bool Configured => !string.IsNullOrWhiteSpace(WebhookSecret);

    public TimeSpan RedriveAfter => TimeSpan.FromMinutes(RedriveAfterMinutes);
}
