namespace DecentCloud.Functions.Platform.Queues;

/// <summary>
/// The time-to-live a message was sent with, read back from the service's insertion and expiry times, so that a
/// copy of it (to the poison queue, or back from it) lives as long as the original was meant to. Without this a copy
/// gets the service default of 7 days, and a message that was sent never to expire is lost a week after it failed.
/// </summary>
public static class MessageTimeToLive
{
    /// <summary>The service reports a never-expiring message as expiring on 31 December 9999.</summary>
    private static readonly DateTimeOffset NeverExpires = new(9999, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// <see cref="QueueWriter.Forever"/> for a message that never expires, else its original lifetime; null (the
    /// service default) only when the service reported no times at all.
    /// </summary>
    public static TimeSpan? Of(DateTimeOffset? insertedOn, DateTimeOffset? expiresOn)
    {
        if (expiresOn is not { } expires)
        {
            return null;
        }

        if (expires >= NeverExpires)
        {
            return QueueWriter.Forever;
        }

        if (insertedOn is not { } inserted)
        {
            return null;
        }

        // Whole seconds, at least one: the service counts time-to-live in seconds and refuses zero.
        return TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling((expires - inserted).TotalSeconds)));
    }
}
