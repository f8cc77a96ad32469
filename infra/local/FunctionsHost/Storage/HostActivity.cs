using System.Diagnostics;

namespace DecentCloud.FunctionsHost.Storage;

/// <summary>
/// The trace of one queue message or timer run: a new W3C trace each, so every log line written while handling it, in
/// the host and (through the invocation's trace context) in the worker, carries a trace id of its own.
/// </summary>
internal static class HostActivity
{
    /// <summary>Starts a root activity; call it first in the message's or run's own async flow.</summary>
    public static Activity Start(string operation)
    {
        Activity.Current = null;
        return new Activity(operation).SetIdFormat(ActivityIdFormat.W3C).Start();
    }
}
