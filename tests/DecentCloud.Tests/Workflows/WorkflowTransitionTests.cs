using DecentCloud.Functions.Workflows;

namespace DecentCloud.Tests.Workflows;

public sealed class WorkflowTransitionTests
{
    private static readonly WorkflowDefinition Flow = new("test", ["a", "b"], MaxAttempts: 3, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5));
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

    private static Transition Apply(WorkflowState state, WorkflowEvent happened) => WorkflowTransitions.Apply(Flow, state, happened, Now);

    [Fact]
    public void Starting_runs_the_first_step_now()
    {
        var started = Apply(WorkflowState.New, new WorkflowEvent.Started());

        Assert.Equal(new WorkflowState(WorkflowStatus.Running, "a", 1, Now, null), started.State);
        Assert.Equal(new RunStep("a", 1, TimeSpan.Zero), started.Command);
    }

    [Fact]
    public void A_step_that_succeeds_hands_over_to_the_next_and_the_last_completes_the_workflow()
    {
        var second = Apply(new WorkflowState(WorkflowStatus.Running, "a", 2, Now, "earlier error"), new WorkflowEvent.StepSucceeded("a"));
        var done = Apply(second.State, new WorkflowEvent.StepSucceeded("b"));

        Assert.Equal(new WorkflowState(WorkflowStatus.Running, "b", 1, Now, null), second.State);
        Assert.Equal(new WorkflowState(WorkflowStatus.Completed, null, 0, null, null), done.State);
        Assert.Null(done.Command);
    }

    [Fact]
    public void A_retryable_failure_waits_longer_each_time_up_to_the_cap_and_fails_after_the_last_attempt()
    {
        var running = new WorkflowState(WorkflowStatus.Running, "a", 1, Now, null);

        var first = Apply(running, new WorkflowEvent.StepFailed("a", "429 Retry later", Retryable: true));
        var second = Apply(first.State, new WorkflowEvent.StepFailed("a", "500", Retryable: true));
        var last = Apply(second.State, new WorkflowEvent.StepFailed("a", "500 again", Retryable: true));

        Assert.Equal(new RunStep("a", 2, TimeSpan.FromSeconds(2)), first.Command);
        Assert.Equal(Now + TimeSpan.FromSeconds(2), first.State.NextRunAt);
        Assert.Equal(new RunStep("a", 3, TimeSpan.FromSeconds(4)), second.Command);
        Assert.Equal(new WorkflowState(WorkflowStatus.Failed, "a", 3, null, "500 again"), last.State);
        Assert.Null(last.Command);
        Assert.Equal(TimeSpan.FromSeconds(5), Flow.RetryDelay(10));
    }

    [Fact]
    public void A_permanent_failure_fails_at_once_with_the_error_and_a_resume_restarts_that_step()
    {
        var failed = Apply(new WorkflowState(WorkflowStatus.Running, "b", 1, Now, null), new WorkflowEvent.StepFailed("b", "401 Invalid Access Token", Retryable: false));
        var resumed = Apply(failed.State, new WorkflowEvent.Resumed("master"));

        Assert.Equal(new WorkflowState(WorkflowStatus.Failed, "b", 1, null, "401 Invalid Access Token"), failed.State);
        Assert.Equal(new RunStep("b", 1, TimeSpan.Zero), resumed.Command);
        Assert.Equal(WorkflowStatus.Running, resumed.State.Status);
    }

    [Fact]
    public void Events_that_do_not_fit_the_state_change_nothing()
    {
        var running = new WorkflowState(WorkflowStatus.Running, "b", 1, Now, null);
        var completed = new WorkflowState(WorkflowStatus.Completed, null, 0, null, null);

        Assert.False(Apply(running, new WorkflowEvent.StepSucceeded("a")).Changed);
        Assert.False(Apply(running, new WorkflowEvent.Resumed("master")).Changed);
        Assert.False(Apply(running, new WorkflowEvent.Started()).Changed);
        Assert.False(Apply(completed, new WorkflowEvent.StepFailed("b", "x", true)).Changed);
        Assert.False(Apply(completed, new WorkflowEvent.Resumed("master")).Changed);
    }
}
