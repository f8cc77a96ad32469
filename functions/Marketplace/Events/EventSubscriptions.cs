using System.Collections.Frozen;

namespace DecentCloud.Functions.Marketplace.Events;

/// <summary>
/// Who hears which domain event: event name to the queues it is copied to, one queue per subscriber, so each
/// subscriber gets every event and consumes it at its own pace. A feature subscribes by adding its own queue
/// here (and a queue function on that queue in Program.cs); the publisher never changes.
/// </summary>
public static class EventSubscriptions
{
    /// <summary>A provider finished onboarding (payload <see cref="Providers.ProviderOnboarded"/>).</summary>
    public const string ProviderOnboarded = "provider-onboarded";

    /// <summary>A renter asked for a contract (payload <see cref="Contracts.ContractView"/>).</summary>
    public const string ContractRequested = "contract-requested";

    /// <summary>The provider accepted a contract (payload <see cref="Contracts.ContractView"/>).</summary>
    public const string ContractAccepted = "contract-accepted";

    /// <summary>The provider rejected a contract (payload <see cref="Contracts.ContractView"/>).</summary>
    public const string ContractRejected = "contract-rejected";

    /// <summary>The renter cancelled a contract (payload <see cref="Contracts.ContractView"/>).</summary>
    public const string ContractCancelled = "contract-cancelled";

    /// <summary>A contract timed out (payload <see cref="Contracts.ContractView"/>).</summary>
    public const string ContractExpired = "contract-expired";

    /// <summary>A contract's payment succeeded (payload <see cref="Contracts.ContractView"/>); one event id per paying session.</summary>
    public const string ContractPaid = "contract-paid";

    /// <summary>An accepted contract got no provisioning result in time (payload <see cref="Contracts.ContractView"/>).</summary>
    public const string ContractProvisioningFailed = "contract-provisioning-failed";

    /// <summary>A Stripe dispute on a contract's payment was opened or changed (payload <see cref="Billing.Payments.ContractDisputeChanged"/>).</summary>
    public const string ContractDisputeChanged = "contract-dispute-changed";

    /// <summary>The contract's orchestration (functions/Provisioning/Lifecycle): starts it once accepted and paid, tells it of ends and disputes.</summary>
    private const string ContractLifecycle = "contract-lifecycle";

    public static readonly FrozenDictionary<string, string[]> Queues = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [ProviderOnboarded] = ["chatwoot-provider-onboarded"],

        [ContractAccepted] = [ContractLifecycle],
        [ContractPaid] = [ContractLifecycle],
        [ContractRejected] = [ContractLifecycle],
        [ContractCancelled] = [ContractLifecycle],
        [ContractDisputeChanged] = [ContractLifecycle],

        // Declared so publishing them is not a typo; nobody subscribes yet (notifications will).
        [ContractRequested] = [],
        [ContractExpired] = [],
        [ContractProvisioningFailed] = [],
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <exception cref="ArgumentException">The event is not declared here (a typo, or a new event nobody listed).</exception>
    public static IReadOnlyList<string> QueuesFor(string eventName) =>
        Queues.TryGetValue(eventName, out var queues)
            ? queues
            : throw new ArgumentException($"Event '{eventName}' is not declared in {nameof(EventSubscriptions)}.", nameof(eventName));
}
