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

    /// <summary>
    /// Starts an activity in the trace of <paramref name="parent"/> (a new trace when there is none), for work that
    /// outlives the request that asked for it and runs in a flow of its own.
    /// </summary>
    public static Activity Continue(string operation, ActivityContext? parent)
    {
        Activity.Current = null;
        var activity = new Activity(operation).SetIdFormat(ActivityIdFormat.W3C);
        if (parent is { } context)
        {
            activity.SetParentId(context.TraceId, context.SpanId, context.TraceFlags);
        }

        return activity.Start();
    }
}
