using System.Diagnostics;

namespace DecentCloud.Functions.Hosting.Http;

/// <summary>
/// The trace id a caller is answered with: the W3C trace id (32 hex digits) of the request's activity, the same value
/// the log lines of that request carry as <c>TraceId</c>, so an operator finds an answered error in the log by it.
/// </summary>
public static class TraceIds
{
    public static string Of(HttpContext context) =>
        Activity.Current is { } activity ? activity.TraceId.ToHexString() : context.TraceIdentifier;
}
