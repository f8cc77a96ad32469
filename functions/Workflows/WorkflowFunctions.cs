using DecentCloud.Functions.Platform.Http;
using Azure.Storage.Queues.Models;
using DecentCloud.Functions.Platform.Queues;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Workflows;

/// <summary>Queue <c>workflow-steps</c>: runs the step a tick names (see <see cref="WorkflowRunner"/>).</summary>
public sealed class RunWorkflowStep(WorkflowRunner runner)
{
    [Function(nameof(RunWorkflowStep))]
    public Task Run([QueueTrigger(WorkflowTick.QueueName)] QueueMessage queued, CancellationToken cancellationToken) =>
        runner.RunAsync(QueueJson.Read<WorkflowTick>(queued), queued.MessageId, cancellationToken);
}

/// <summary>
/// Timer: the deadline sweeper. A running instance whose step was due a while ago and that nobody holds lost its tick
/// (a crash between recording a move and sending the next message): the tick is sent again.
/// </summary>
public sealed partial class SweepWorkflows(WorkflowStore store, WorkflowRunner runner, TimeProvider time, ILogger<SweepWorkflows> logger)
{
    /// <summary>How late a due step must be before its tick counts as lost.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(1);

    [Function(nameof(SweepWorkflows))]
    public async Task Run([TimerTrigger("0 * * * * *")] TimerInfo timer, CancellationToken cancellationToken)
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
    [Query("status")]
    [Function(nameof(ListWorkflows))]
    public async Task<Results<Ok<List<WorkflowSummary>>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Admin, "get", Route = "v1/admin/workflows")] HttpRequest request, CancellationToken cancellationToken)
    {
        var status = QueryValues.Text(request, "status");
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
