using DecentCloud.Functions.Marketplace.Contracts;

namespace DecentCloud.Functions.Billing.Refunding;

/// <summary>Why a payment is owed back (docs/contracts.md, "Refunds").</summary>
public enum RefundReason
{
    /// <summary>The provider rejected the contract before any service: everything not yet refunded.</summary>
    ProviderRejected,

    /// <summary>Provisioning failed or timed out: everything not yet refunded.</summary>
    ProvisioningFailed,

    /// <summary>A paid contract expired waiting for the provider: everything not yet refunded.</summary>
    ExpiredWaitingForProvider,

    /// <summary>The renter cancelled: everything not yet refunded if never provisioned, else the unused share.</summary>
    RenterCancelled,

    /// <summary>The provider lost a dispute: the unused share.</summary>
    DisputeLost,

    /// <summary>A second payment for a contract already paid: all of it.</summary>
    DuplicatePayment,

    /// <summary>A payment that came after the contract ended (the renter was still paying): all of it.</summary>
    PaidAfterEnd,
}

/// <summary>What one payment holds. Integer minor units of the payment's currency.</summary>
/// <param name="ChargedMinor">What the payment actually charged: gross, VAT included.</param>
/// <param name="RefundedMinor">What was already refunded of it.</param>
/// <param name="ReleasedMinor">What was already released to the provider and cannot be taken back.</param>
public sealed record PaymentHeld(long ChargedMinor, long RefundedMinor, long ReleasedMinor)
{
    /// <summary>What is still in the platform's hands for this payment.</summary>
    public long HeldMinor => Math.Max(0, ChargedMinor - RefundedMinor - ReleasedMinor);
}

/// <summary>How much of the term the renter had.</summary>
/// <param name="ProvisionedAt">When provisioning completed; null if it never did (the pro-rata clock starts here).</param>
/// <param name="EndedAt">When the service stopped (the cancellation, or the decision of the dispute).</param>
/// <param name="Paused">Time spent paused between the two, credited back to the renter.</param>
public sealed record ServiceTime(int TermHours, DateTimeOffset? ProvisionedAt, DateTimeOffset EndedAt, TimeSpan Paused);

/// <summary>The refund rules of docs/contracts.md as one pure function: what one payment owes back, and nothing else.</summary>
public static class RefundRules
{
    private static readonly Int128 TicksPerHour = TimeSpan.TicksPerHour;

    /// <summary>
    /// The refund owed on <paramref name="payment"/>. Full reasons, and a contract never provisioned, give back
    /// everything the payment still holds. Otherwise the provider has earned charged × served / term, rounded UP to the
    /// next minor unit (time served is paid in whole minor units, as the price is), with served = (ended − provisioned) −
    /// paused within [0, term]; the renter is owed the rest of the charge, the unused share. What was refunded already
    /// counts towards that share, and money released to the provider stays with the provider, so the refund is
    /// unused − refunded, within [0, what the payment holds].
    /// </summary>
    public static long Owed(RefundReason reason, PaymentHeld payment, ServiceTime service)
    {
        ArgumentNullException.ThrowIfNull(payment);
        ArgumentNullException.ThrowIfNull(service);
        Validate(payment, service);

        if (IsFull(reason) || service.ProvisionedAt is null)
        {
            return payment.HeldMinor;
        }

        var unused = UnusedShare(payment.ChargedMinor, service);
        return Math.Clamp(unused - payment.RefundedMinor, 0, payment.HeldMinor);
    }

    public static bool IsFull(RefundReason reason) =>
        reason is RefundReason.ProviderRejected or RefundReason.ProvisioningFailed or RefundReason.ExpiredWaitingForProvider or RefundReason.DuplicatePayment or RefundReason.PaidAfterEnd;


    private static long UnusedShare(long charged, ServiceTime service) => checked(charged - Earned(charged, service));

    /// <summary>
    /// The provider's share of <paramref name="charged"/> for the time served up to <see cref="ServiceTime.EndedAt"/>:
    /// charged × served / term, rounded UP, served = (ended − provisioned) − paused within [0, term]; 0 if never
    /// provisioned. The refunds (the unused share is the rest) and the releases (docs/ledger.md) both count it here, so a
    /// cancelled contract's releases and its refund always sum to the charge.
    /// </summary>
    public static long Earned(long charged, ServiceTime service)
    {
        ArgumentNullException.ThrowIfNull(service);
        if (service.ProvisionedAt is not { } provisionedAt)
        {
            return 0;
        }

        var termTicks = service.TermHours * TicksPerHour;
        var elapsed = service.EndedAt - provisionedAt;
        var servedTicks = Int128.Clamp((Int128)elapsed.Ticks - service.Paused.Ticks, 0, termTicks);
        return (long)ContractPricing.CeilingDivide(charged * servedTicks, termTicks);
    }

    private static void Validate(PaymentHeld payment, ServiceTime service)
    {
        if (payment.ChargedMinor < 0 || payment.RefundedMinor < 0 || payment.ReleasedMinor < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(payment), payment, "Charged, refunded and released amounts must not be negative.");
        }

        if (service.TermHours <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(service), service.TermHours, "The term must be at least 1 hour.");
        }

        if (service.Paused < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(service), service.Paused, "The paused duration must not be negative.");
        }
    }
}
