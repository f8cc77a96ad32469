using System.Text.Json;
using DecentCloud.Functions.Platform.Queues;

namespace DecentCloud.Functions.Workflows;

/// <summary>The activities of one workflow: its definition, and how to carry out each step.</summary>
public interface IWorkflowSteps
{
    WorkflowDefinition Definition { get; }

    /// <summary>
    /// Carries out <paramref name="step"/>. It must be idempotent (keyed by instance and step): it runs again after a
    /// crash or a redelivered message. Throw <see cref="WorkflowStepException"/> to say whether a failure is worth retrying;
    /// any other exception is retried.
    /// </summary>
    Task RunAsync(string step, WorkflowStepContext context, CancellationToken cancellationToken);
}

public sealed record WorkflowStepContext(string InstanceId, IReadOnlyDictionary<string, string> Inputs, int Attempt);

/// <summary>A step failed; <see cref="Retryable"/> says whether trying again later can help.</summary>
public sealed class WorkflowStepException(string message, bool retryable, Exception? innerException = null) : Exception(message, innerException)
{
    public bool Retryable { get; } = retryable;
}

/// <summary>The message on the <c>workflow-steps</c> queue: run this step of this instance, at this attempt.</summary>
public sealed record WorkflowTick(string InstanceId, string Step, int Attempt)
{
    public const string QueueName = "workflow-steps";
}

/// <summary>
/// Carries out workflow transitions: starts instances, runs the step a tick names, records every move with its history
/// row, and sends the next tick (delayed for a retry). A tick that does not match the instance (late, or a duplicate)
/// is dropped; a claim on the instance keeps two deliveries of one tick from running the step at once.
/// </summary>
public sealed partial class WorkflowRunner(
    WorkflowStore store,
    IEnumerable<IWorkflowSteps> workflows,
    QueueWriter queues,
    TimeProvider time,
    ILogger<WorkflowRunner> logger)
{
    /// <summary>How long one delivery holds a step; a crashed runner's claim runs out and the sweeper sends the tick again.</summary>
    public static readonly TimeSpan ClaimFor = TimeSpan.FromMinutes(5);

    private readonly Dictionary<string, IWorkflowSteps> byName = workflows.ToDictionary(w => w.Definition.Name, StringComparer.Ordinal);

    public IWorkflowSteps Workflow(string name) =>
        byName.TryGetValue(name, out var workflow) ? workflow : throw new InvalidOperationException($"No workflow is registered as {name}.");

    /// <summary>Starts the instance unless it exists (a redelivered start changes nothing); answers the instance.</summary>
    public async Task<WorkflowInstanceEntity> StartAsync(string workflowName, string instanceId, IReadOnlyDictionary<string, string> inputs, CancellationToken cancellationToken)
    {
        var workflow = Workflow(workflowName);
        var now = time.GetUtcNow();
        var instance = new WorkflowInstanceEntity
        {
            PartitionKey = instanceId,
            Workflow = workflowName,
            Data = JsonSerializer.Serialize(inputs),
            CreatedAt = now,
            UpdatedAt = now,
        };
        if (!await store.TryAddAsync(instance, cancellationToken))
        {
            instance = await store.FindAsync(instanceId, cancellationToken) ?? throw new InvalidOperationException($"workflow {instanceId} exists and cannot be read");
            if (instance.Status != "new")
            {
                return instance;
            }

            // Added by an earlier attempt that stopped before its first move: make that move now, or nothing ever would.
        }

        await MoveAsync(workflow, instance, new WorkflowEvent.Started(), "system", cancellationToken);
        return instance;
    }

    /// <summary>Resumes a failed instance at its failed step; false when it is not failed.</summary>
    public async Task<bool> ResumeAsync(string instanceId, string by, CancellationToken cancellationToken)
    {
        var instance = await store.FindAsync(instanceId, cancellationToken);
        return instance is not null && await MoveAsync(Workflow(instance.Workflow), instance, new WorkflowEvent.Resumed(by), by, cancellationToken);
    }

    public async Task RunAsync(WorkflowTick tick, string messageId, CancellationToken cancellationToken)
    {
        var instance = await store.FindAsync(tick.InstanceId, cancellationToken);
        if (instance is null || instance.Status != WorkflowStatus.Running || instance.Step != tick.Step || instance.Attempt != tick.Attempt)
        {
            LogStale(logger, tick.InstanceId, tick.Step, tick.Attempt, instance?.Status ?? "missing");
            return;
        }

        var now = time.GetUtcNow();
        if (instance.ClaimedUntil > now && instance.ClaimedBy != messageId)
        {
            LogClaimed(logger, tick.InstanceId, tick.Step);
            return;
        }

        instance.ClaimedBy = messageId;
        instance.ClaimedUntil = now + ClaimFor;
        if (!await store.TryWriteAsync(instance, null, cancellationToken))
        {
            LogClaimed(logger, tick.InstanceId, tick.Step);
            return;
        }

        var workflow = Workflow(instance.Workflow);
        WorkflowEvent outcome;
        try
        {
            await workflow.RunAsync(tick.Step, new WorkflowStepContext(instance.PartitionKey, instance.Inputs(), tick.Attempt), cancellationToken);
            outcome = new WorkflowEvent.StepSucceeded(tick.Step);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host is stopping: the message is released and the same delivery picks the claim up again.
            throw;
        }
        catch (Exception ex)
        {
            var retryable = ex is not WorkflowStepException { Retryable: false };
            LogStepFailed(logger, ex, tick.InstanceId, tick.Step, tick.Attempt, retryable);
            outcome = new WorkflowEvent.StepFailed(tick.Step, ex.ToString(), retryable);
        }

        if (!await MoveAsync(workflow, instance, outcome, "system", cancellationToken))
        {
            LogLostMove(logger, tick.InstanceId, tick.Step);
        }
    }

    /// <summary>Sends the tick of an overdue instance again (its message was lost, or its runner crashed).</summary>
    public Task ResendAsync(WorkflowInstanceEntity instance, CancellationToken cancellationToken) =>
        queues.SendAsync(WorkflowTick.QueueName, new WorkflowTick(instance.PartitionKey, instance.Step!, instance.Attempt), cancellationToken: cancellationToken);

    private async Task<bool> MoveAsync(IWorkflowSteps workflow, WorkflowInstanceEntity instance, WorkflowEvent happened, string by, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var before = instance.ToState();
        var transition = WorkflowTransitions.Apply(workflow.Definition, before, happened, now);
        if (!transition.Changed)
        {
            return false;
        }

        instance.Apply(transition.State);
        instance.ClaimedBy = null;
        instance.ClaimedUntil = null;
        instance.UpdatedAt = now;
        instance.Moves++;
        var move = new WorkflowHistoryEntity
        {
            PartitionKey = instance.PartitionKey,
            RowKey = WorkflowHistoryEntity.RowKeyFor(instance.Moves),
            Event = happened.Name,
            From = Describe(before),
            To = Describe(transition.State),
            Error = happened is WorkflowEvent.StepFailed failed ? failed.Error : null,
            By = by,
            At = now,
        };
        if (!await store.TryWriteAsync(instance, move, cancellationToken))
        {
            return false;
        }

        LogMoved(logger, instance.PartitionKey, happened.Name, move.From, move.To);
        if (transition.Command is { } run)
        {
            // If this send is lost, the sweeper sends the tick once the step is overdue.
            await queues.SendAsync(WorkflowTick.QueueName, new WorkflowTick(instance.PartitionKey, run.Step, run.Attempt), run.Delay, cancellationToken);
        }

        return true;
    }

    private static string Describe(WorkflowState state) =>
        state.Step is null ? state.Status : $"{state.Status} {state.Step} (attempt {state.Attempt})";

    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "Workflow {InstanceId}: {Event}, {From} -> {To}")]
    private static partial void LogMoved(ILogger logger, string instanceId, string @event, string from, string to);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Error, Message = "Workflow {InstanceId}: step {Step} failed on attempt {Attempt} (retryable: {Retryable})")]
    private static partial void LogStepFailed(ILogger logger, Exception exception, string instanceId, string step, int attempt, bool retryable);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Debug, Message = "Workflow {InstanceId}: tick for {Step} attempt {Attempt} dropped, the instance is {Status} elsewhere")]
    private static partial void LogStale(ILogger logger, string instanceId, string step, int attempt, string status);

    [LoggerMessage(EventId = 9004, Level = LogLevel.Information, Message = "Workflow {InstanceId}: step {Step} is being run by another delivery")]
    private static partial void LogClaimed(ILogger logger, string instanceId, string step);

    [LoggerMessage(EventId = 9005, Level = LogLevel.Warning, Message = "Workflow {InstanceId}: the move after step {Step} was not recorded, the instance changed meanwhile")]
    private static partial void LogLostMove(ILogger logger, string instanceId, string step);
}
