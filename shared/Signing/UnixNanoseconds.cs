namespace DecentCloud.Shared.Signing;

/// <summary>X-Timestamp's unit. A long holds Unix nanoseconds until the year 2262.</summary>
public static class UnixNanoseconds
{
    public static long From(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;

    public static DateTimeOffset ToDateTimeOffset(long nanoseconds) => DateTimeOffset.UnixEpoch.AddTicks(nanoseconds / 100);
}
