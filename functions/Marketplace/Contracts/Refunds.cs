namespace DecentCloud.Functions.Marketplace.Contracts;

public enum RefundReason
{
    /// <summary>The provider rejected the contract before any service: full refund.</summary>
    ProviderRejected,

    /// <summary>Provisioning failed (or timed out): full refund.</summary>
    ProvisioningFailed,

    /// <summary>A paid contract expired waiting for the provider (DOMAIN.md fix): full refund.</summary>
    ExpiredWaitingForProvider,

    /// <summary>The requester cancelled: full if never provisioned, else the unused share.</summary>
    RequesterCancelled,

    /// <summary>The provider lost a dispute: the unused share.</summary>
    DisputeLost,
}

/// <summary>What a refund is computed from. Amounts are integer minor units of the payment's currency.</summary>
/// <param name="PaymentMinor">What the renter paid for the whole term.</param>
/// <param name="ReleasedMinor">What has already been released to the provider and cannot be taken back.</param>
/// <param name="TermHours">The contract's term.</param>
/// <param name="ProvisionedAt">When provisioning completed; null if it never did (the pro-rata clock starts here).</param>
/// <param name="CancelledAt">When the service stopped (cancellation, or the decision of the dispute).</param>
/// <param name="PausedDuration">Total time spent paused between the two, credited back to the renter.</param>
public sealed record RefundInput(
    long PaymentMinor,
    long ReleasedMinor,
    int TermHours,
    DateTimeOffset? ProvisionedAt,
    DateTimeOffset CancelledAt,
    TimeSpan PausedDuration,
    RefundReason Reason);

/// <summary>The split of a payment: <c>Refund + Released + ProviderRemainder == Payment</c>, always.</summary>
/// <param name="ProviderRemainderMinor">Still owed to the provider for time served, not yet released.</param>
/// <param name="AwaitsAdminApproval">The refund is above the approval threshold and waits for an admin.</param>
public sealed record RefundOutcome(
    long PaymentMinor,
    long RefundMinor,
    long ReleasedMinor,
    long ProviderRemainderMinor,
    bool AwaitsAdminApproval);

/// <summary>The refund rules of DOMAIN.md, as one pure function.</summary>
public static class Refunds
{
    private static readonly Int128 TicksPerHour = TimeSpan.TicksPerHour;

    /// <summary>
    /// Full-refund reasons, and a contract never provisioned, refund everything not yet released.
    /// Otherwise the provider has earned payment × served / term, rounded UP to the next minor unit
    /// (the rounding rule of <see cref="ContractPricing"/>: time served is paid in whole minor units),
    /// where served = (cancelled − provisioned) − paused, within [0, term]. The renter is owed the rest,
    /// the unused share. Money already released stays with the provider, so the refund is the unused
    /// share limited to what is still held: refund = min(unused share, payment − released).
    /// Subtracting the released amount from the unused share as well would charge the renter twice for
    /// the same served hours, since releases pay for served time. The provider's remainder takes what is left.
    /// </summary>
    /// <param name="approvalThresholdMinor">A refund above this waits for an admin's approval.</param>
    public static RefundOutcome Compute(RefundInput input, long approvalThresholdMinor)
    {
        ArgumentNullException.ThrowIfNull(input);
        Validate(input);
        ArgumentOutOfRangeException.ThrowIfNegative(approvalThresholdMinor);

        var held = input.PaymentMinor - input.ReleasedMinor;
        var refund = IsFullRefund(input) ? held : Math.Min(UnusedShare(input), held);
        var remainder = held - refund;

        return new RefundOutcome(input.PaymentMinor, refund, input.ReleasedMinor, remainder, refund > approvalThresholdMinor);
    }

    private static bool IsFullRefund(RefundInput input) =>
        input.ProvisionedAt is null
        || input.Reason is RefundReason.ProviderRejected or RefundReason.ProvisioningFailed or RefundReason.ExpiredWaitingForProvider;

    private static long UnusedShare(RefundInput input)
    {
        var termTicks = input.TermHours * TicksPerHour;
        var elapsed = input.CancelledAt - input.ProvisionedAt!.Value;
        var servedTicks = Int128.Clamp((Int128)elapsed.Ticks - input.PausedDuration.Ticks, 0, termTicks);
        var earned = ContractPricing.CeilingDivide(input.PaymentMinor * servedTicks, termTicks);
        return checked(input.PaymentMinor - (long)earned);
    }

    private static void Validate(RefundInput input)
    {
        if (input.PaymentMinor < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(input), input.PaymentMinor, "The payment must not be negative.");
        }

        if (input.ReleasedMinor < 0 || input.ReleasedMinor > input.PaymentMinor)
        {
            throw new ArgumentOutOfRangeException(nameof(input), input.ReleasedMinor, $"The released amount must lie between 0 and the payment of {input.PaymentMinor}.");
        }

        if (input.TermHours <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(input), input.TermHours, "The term must be at least 1 hour.");
        }

        if (input.PausedDuration < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(input), input.PausedDuration, "The paused duration must not be negative.");
        }
    }
}
