namespace DecentCloud.Functions.Workflows;

/// <summary>
/// A workflow: its steps in order and how often a failing step is tried. Steps run one after the other; a step that
/// fails with a retryable error is tried again after an exponential delay, up to <see cref="MaxAttempts"/>; then, or on
/// a permanent error, the workflow is <c>failed</c> with the error until an admin resumes it.
/// </summary>
public sealed record WorkflowDefinition(string Name, IReadOnlyList<string> Steps, int MaxAttempts, TimeSpan FirstRetryDelay, TimeSpan MaxRetryDelay)
{
    /// <summary>The wait before attempt <paramref name="attempt"/> + 1: first delay × 2^(attempt − 1), capped.</summary>
    public TimeSpan RetryDelay(int attempt) =>
        TimeSpan.FromTicks(Math.Min(MaxRetryDelay.Ticks, FirstRetryDelay.Ticks * (1L << Math.Clamp(attempt - 1, 0, 30))));
}

public static class WorkflowStatus
{
    /// <summary>A step is due (now, or at <see cref="WorkflowState.NextRunAt"/> after a failed attempt).</summary>
    public const string Running = "running";
    public const string Completed = "completed";

    /// <summary>Stopped on an error; an admin may resume it at the failed step.</summary>
    public const string Failed = "failed";
}

/// <summary>Where an instance is: its status, the step due and its attempt, when it runs, and the last error.</summary>
public sealed record WorkflowState(string Status, string? Step, int Attempt, DateTimeOffset? NextRunAt, string? LastError)
{
    public static readonly WorkflowState New = new("new", null, 0, null, null);
}

/// <summary>What happened to an instance.</summary>
public abstract record WorkflowEvent
{
    private WorkflowEvent()
    {
    }

    public abstract string Name { get; }

    public sealed record Started : WorkflowEvent
    {
        public override string Name => "started";
    }

    public sealed record StepSucceeded(string Step) : WorkflowEvent
    {
        public override string Name => "step-succeeded";
    }

    /// <param name="Error">The whole error (exception text), for admins.</param>
    public sealed record StepFailed(string Step, string Error, bool Retryable) : WorkflowEvent
    {
        public override string Name => Retryable ? "step-failed" : "step-failed-permanently";
    }

    public sealed record Resumed(string By) : WorkflowEvent
    {
        public override string Name => "resumed";
    }
}

/// <summary>Run <paramref name="Step"/> (attempt <paramref name="Attempt"/>) after <paramref name="Delay"/>: the one command, a queue message.</summary>
public sealed record RunStep(string Step, int Attempt, TimeSpan Delay);

/// <summary>The new state, and the command to carry out (null: nothing more to run).</summary>
public sealed record Transition(WorkflowState State, RunStep? Command, bool Changed);

/// <summary>
/// The orchestrator half of a workflow (docs/workflows.md): a pure function of the definition, the state and
/// an event. It decides; the runner carries out its command and records the move. Events that do not fit the state
/// (a late message for a step already done) change nothing.
/// </summary>
public static class WorkflowTransitions
{
    public static Transition Apply(WorkflowDefinition definition, WorkflowState state, WorkflowEvent happened, DateTimeOffset now) =>
        (state.Status, happened) switch
        {
            ("new", WorkflowEvent.Started) => Run(definition.Steps[0], 1, now, TimeSpan.Zero),
            (WorkflowStatus.Running, WorkflowEvent.StepSucceeded done) when done.Step == state.Step => Next(definition, done.Step, now),
            (WorkflowStatus.Running, WorkflowEvent.StepFailed failed) when failed.Step == state.Step =>
                failed.Retryable && state.Attempt < definition.MaxAttempts
                    ? Run(failed.Step, state.Attempt + 1, now, definition.RetryDelay(state.Attempt), failed.Error)
                    : new Transition(new WorkflowState(WorkflowStatus.Failed, failed.Step, state.Attempt, null, failed.Error), null, true),
            (WorkflowStatus.Failed, WorkflowEvent.Resumed) => Run(state.Step!, 1, now, TimeSpan.Zero, state.LastError),
            _ => new Transition(state, null, false),
        };

    private static Transition Next(WorkflowDefinition definition, string done, DateTimeOffset now)
    {
        var index = IndexOf(definition, done);
        return index + 1 < definition.Steps.Count
            ? Run(definition.Steps[index + 1], 1, now, TimeSpan.Zero)
            : new Transition(new WorkflowState(WorkflowStatus.Completed, null, 0, null, null), null, true);
    }

    private static Transition Run(string step, int attempt, DateTimeOffset now, TimeSpan delay, string? lastError = null) =>
        new(new WorkflowState(WorkflowStatus.Running, step, attempt, now + delay, lastError), new RunStep(step, attempt, delay), true);

    private static int IndexOf(WorkflowDefinition definition, string step)
    {
        for (var i = 0; i < definition.Steps.Count; i++)
        {
            if (definition.Steps[i] == step)
            {
                return i;
            }
        }

        throw new ArgumentException($"Workflow {definition.Name} has no step '{step}'.", nameof(step));
    }
}
