using System.Diagnostics;

namespace DecentCloud.Functions.Platform.Http;

/// <summary>
/// The trace id a caller is answered with: the W3C trace id (32 hex digits) of the function invocation the request
/// belongs to, the same value the invocation's log lines carry, so an operator finds an answered error in the log by it.
/// </summary>
public static class TraceIds
{
    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    public static string Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<InvocationTrace>()?.TraceId
            ?? (Activity.Current is { } activity ? activity.TraceId.ToHexString() : context.TraceIdentifier);
    }

    /// <summary>The trace id of a W3C <c>traceparent</c> (<c>00-{trace id}-{span id}-{flags}</c>); null when it is not one.</summary>
    public static string? FromTraceParent(string? traceParent) =>
        traceParent is { Length: >= 55 } && traceParent[2] == '-' && traceParent[35] == '-' && !traceParent.AsSpan(3, 32).ContainsAnyExcept(LowerHex)
            ? traceParent.Substring(3, 32)
            : null;
}

/// <summary>The invocation's trace id, set on the request by <see cref="HttpFunctionMiddleware"/>.</summary>
public sealed record InvocationTrace(string TraceId);
