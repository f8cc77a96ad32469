using DecentCloud.Functions.Hosting.Queues;
using DecentCloud.Functions.Hosting.Timers;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Workflows;

/// <summary>Queue <c>workflow-steps</c>: runs the step a tick names (see <see cref="WorkflowRunner"/>).</summary>
public sealed class RunWorkflowStep(WorkflowRunner runner, QueueMessageContext message) : IQueueFunction<WorkflowTick>
{
    public Task Run(WorkflowTick tick, CancellationToken cancellationToken) => runner.RunAsync(tick, message.MessageId, cancellationToken);
}

/// <summary>
/// Timer: the deadline sweeper. A running instance whose step was due a while ago and that nobody holds lost its tick
/// (a crash between recording a move and sending the next message): the tick is sent again.
/// </summary>
public sealed partial class SweepWorkflows(WorkflowStore store, WorkflowRunner runner, TimeProvider time, ILogger<SweepWorkflows> logger) : ITimerFunction
{
    /// <summary>How late a due step must be before its tick counts as lost.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(1);

    public async Task Run(TimerInfo timer, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var resent = 0;
        await foreach (var instance in store.OverdueAsync(now - Grace, now, cancellationToken))
        {
            await runner.ResendAsync(instance, cancellationToken);
            resent++;
        }

        if (resent > 0)
        {
            LogResent(logger, resent);
        }
    }

    [LoggerMessage(EventId = 9006, Level = LogLevel.Warning, Message = "Workflow sweep: {Count} overdue steps sent again")]
    private static partial void LogResent(ILogger logger, int count);
}

/// <summary><c>GET /api/v1/admin/workflows?status=failed</c>, admin: the workflow instances in a status, for operators.</summary>
public sealed class ListWorkflows(WorkflowStore store)
{
    public const int Limit = 200;

    [EndpointSummary("List workflow instances by status")]
    [EndpointDescription("Admin. Instances whose status is the given one (running, completed or failed; default failed), at most 200, with "
        + "step, attempt, next run and last error. 400 for another status.")]
    public async Task<Results<Ok<List<WorkflowSummary>>, ProblemHttpResult>> Run(string? status, CancellationToken cancellationToken)
    {
        status ??= WorkflowStatus.Failed;
        if (status is not (WorkflowStatus.Running or WorkflowStatus.Completed or WorkflowStatus.Failed))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Unknown status", detail: "status is running, completed or failed.");
        }

        var found = new List<WorkflowSummary>();
        await foreach (var instance in store.InStatusAsync(status, cancellationToken))
        {
            found.Add(new WorkflowSummary(instance.PartitionKey, instance.Workflow, instance.Status, instance.Step, instance.Attempt, instance.NextRunAt, instance.LastError, instance.UpdatedAt));
            if (found.Count == Limit)
            {
                break;
            }
        }

        return TypedResults.Ok(found);
    }
}

public sealed record WorkflowSummary(string Id, string Workflow, string Status, string? Step, int Attempt, DateTimeOffset? NextRunAt, string? LastError, DateTimeOffset UpdatedAt);

public static class WorkflowServices
{
    public static IServiceCollection AddWorkflows(this IServiceCollection services) =>
        services.AddSingleton<WorkflowStore>().AddSingleton<WorkflowRunner>();
}
