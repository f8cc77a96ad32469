using System.Globalization;
using Azure.Data.Tables;
using DecentCloud.Functions.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Operations;

/// <summary>
/// Every admin action, with who (the key's name), what, on what, the outcome and when: one log event
/// and one row in the <c>AdminActions</c> table, newest first within a month's partition.
/// </summary>
public sealed partial class AdminAudit(TableServiceClient tables, TimeProvider time, ILogger<AdminAudit> logger)
{
    public const string TableName = "AdminActions";

    private readonly TableClient table = tables.GetTableClient(TableName);
    private volatile bool tableReady;

    public async Task RecordAsync(HttpContext context, string action, string target, string outcome)
    {
        var caller = FunctionCaller.Of(context);
        // The same trace id the caller sees in problem details.
        var traceId = TraceIds.Of(context);
        var at = time.GetUtcNow();

        // The log line comes first: if the row cannot be written, the trail is still in the logs, and the
        // storage failure reaches the caller as a 500 (logged whole) rather than being swallowed.
        LogAdminAction(logger, action, target, caller.Name, outcome, traceId);
        var row = new TableEntity(MonthOf(at), $"{DateTimeOffset.MaxValue.Ticks - at.Ticks:D19}-{Guid.NewGuid():N}")
        {
            ["At"] = at,
            ["Caller"] = caller.Name,
            ["Action"] = action,
            ["Target"] = target,
            ["Outcome"] = outcome,
            ["TraceId"] = traceId,
        };
        await EnsureTableAsync();
        await table.AddEntityAsync(row, CancellationToken.None);
    }

    /// <summary>The actions of one month (<c>yyyy-MM</c>), newest first, at most <paramref name="limit"/>.</summary>
    public async Task<IReadOnlyList<AdminAction>> ListAsync(string month, int limit, CancellationToken cancellationToken)
    {
        await EnsureTableAsync();
        var actions = new List<AdminAction>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {month}"), maxPerPage: Math.Min(limit, 1000), cancellationToken: cancellationToken))
        {
            actions.Add(new AdminAction(
                row.GetDateTimeOffset("At") ?? DateTimeOffset.MinValue,
                row.GetString("Caller") ?? "",
                row.GetString("Action") ?? "",
                row.GetString("Target") ?? "",
                row.GetString("Outcome") ?? "",
                row.GetString("TraceId") ?? ""));
            if (actions.Count >= limit)
            {
                break;
            }
        }

        return actions;
    }

    public static string MonthOf(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    private async Task EnsureTableAsync()
    {
        if (!tableReady)
        {
            await table.CreateIfNotExistsAsync();
            tableReady = true;
        }
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Admin action {Action} on {Target} by {Caller}: {Outcome} (trace {TraceId})")]
    private static partial void LogAdminAction(ILogger logger, string action, string target, string caller, string outcome, string traceId);
}

public sealed record AdminAction(DateTimeOffset At, string Caller, string Action, string Target, string Outcome, string TraceId);

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
