using System.ComponentModel.DataAnnotations;

namespace DecentCloud.Functions.Billing.StripeIntegration;

/// <summary>How the reconcilers make sure no Stripe event is lost (<see cref="RedriveStripeEvents"/>, <see cref="PollStripeEvents"/>).</summary>
public sealed class StripeReconcileOptions
{
    /// <summary>An event row still <c>received</c> this long after it arrived is re-queued; its first re-drive waits this long, each next one twice as long.</summary>
    [ConfigurationKeyName("STRIPE_REDRIVE_AFTER_MINUTES")]
    [Range(1, 1440)]
    public int RedriveAfterMinutes { get; set; } = 5;

    /// <summary>After this many re-drives an event is left to the poison queue and the admins (it is logged at Error once).</summary>
    [ConfigurationKeyName("STRIPE_REDRIVE_MAX")]
    [Range(0, 20)]
    public int MaxRedrives { get; set; } = 5;

    /// <summary>
    /// On its first run the poller reads Stripe's events of this many past hours; later runs go on from the newest
    /// event seen. Stripe keeps events for 30 days (720 hours).
    /// </summary>
    [ConfigurationKeyName("STRIPE_POLL_LOOKBACK_HOURS")]
    [Range(1, 720)]
    public int PollLookbackHours { get; set; } = 72;

    /// <summary>
    /// Events younger than this are left to their webhook (which usually comes within seconds) and picked up by the next
    /// run if it never came; this keeps the poller from queueing a second copy of nearly every event.
    /// </summary>
    [ConfigurationKeyName("STRIPE_POLL_SETTLE_SECONDS")]
    [Range(0, 3600)]
    public int PollSettleSeconds { get; set; } = 120;

    public TimeSpan RedriveAfter => TimeSpan.FromMinutes(RedriveAfterMinutes);
}
