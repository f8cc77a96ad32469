using System.ComponentModel.DataAnnotations;

namespace DecentCloud.Functions.Ledger.Releases;

/// <summary>How often the escrow is released to providers, and the platform's fee on each release (docs/ledger.md, "Releases").</summary>
public sealed class ReleaseOptions
{
    /// <summary>
    /// The release period, in hours: a run releases each contract's served time up to the last period end (periods are
    /// counted from 1970-01-01 UTC, so with 24 they end at midnight UTC).
    /// </summary>
    [ConfigurationKeyName("PAYMENT_RELEASE_INTERVAL_HOURS")]
    [Range(1, 720)]
    public int IntervalHours { get; set; } = 24;

    /// <summary>The platform's fee on each release, in basis points (100 = 1 %), rounded down to the minor unit.</summary>
    [ConfigurationKeyName("PLATFORM_FEE_BPS")]
    [Range(0, 10_000)]
    public int PlatformFeeBps { get; set; }

    public TimeSpan Interval => TimeSpan.FromHours(IntervalHours);

    /// <summary>The end of the last whole period at <paramref name="now"/>.</summary>
    public DateTimeOffset PeriodEnd(DateTimeOffset now)
    {
        var ticks = now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return DateTimeOffset.UnixEpoch.AddTicks(ticks - (ticks % Interval.Ticks));
    }

    public long FeeOf(long releasedMinor) => (long)((Int128)releasedMinor * PlatformFeeBps / 10_000);
}
