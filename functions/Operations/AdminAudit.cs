using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;

using DecentCloud.Functions.Hosting.Http;

namespace DecentCloud.Functions.Operations;

/// <summary>Every admin action, with the caller's key name, in one recognisable log event.</summary>
public sealed partial class AdminAudit(ILogger<AdminAudit> logger)
{
    public void Record(HttpContext context, string action, string target, string outcome)
    {
        var caller = FunctionCaller.Of(context);
        // The same trace id the caller sees in problem details.
        var traceId = Activity.Current?.Id ?? context.TraceIdentifier;
        LogAdminAction(logger, action, target, caller.Name, outcome, traceId);
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Admin action {Action} on {Target} by {Caller}: {Outcome} (trace {TraceId})")]
    private static partial void LogAdminAction(ILogger logger, string action, string target, string caller, string outcome, string traceId);
}

internal static class QueueProblems
{
    public static ProblemHttpResult UnknownQueue(string queue) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "Unknown queue",
            detail: $"No queue function listens to '{queue}'. GET /api/v1/admin/queues lists the queues.");

    public static ProblemHttpResult UnknownMessage(string poisonQueue, string messageId) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "Unknown message",
            detail: $"{poisonQueue} holds no message with id '{messageId}'.");
}
