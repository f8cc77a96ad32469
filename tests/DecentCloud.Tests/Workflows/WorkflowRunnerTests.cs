using System.Collections.Concurrent;
using DecentCloud.Functions.Workflows;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Workflows;

/// <summary>What the test workflow's steps do, and what they did.</summary>
public sealed class StepScript
{
    /// <summary>Failures to throw before a step succeeds, and whether they are retryable.</summary>
    public ConcurrentDictionary<string, (int Times, bool Retryable)> Failures { get; } = new();

    public ConcurrentQueue<(string Instance, string Step, int Attempt)> Runs { get; } = new();
}

public sealed class ScriptedSteps(StepScript script) : IWorkflowSteps
{
    public WorkflowDefinition Definition { get; } = new("scripted", ["one", "two", "three"], MaxAttempts: 3, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));

    public Task RunAsync(string step, WorkflowStepContext context, CancellationToken cancellationToken)
    {
        script.Runs.Enqueue((context.InstanceId, step, context.Attempt));
        if (script.Failures.TryGetValue($"{context.InstanceId}/{step}", out var failure) && failure.Times > 0)
        {
            script.Failures[$"{context.InstanceId}/{step}"] = (failure.Times - 1, failure.Retryable);
            throw new WorkflowStepException($"{step} failed as scripted", failure.Retryable, new InvalidOperationException("the scripted cause"));
        }

        return Task.CompletedTask;
    }
}

public sealed class WorkflowRunnerTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>, IAsyncLifetime
{
    private readonly StepScript script = new();
    private TestFunctionApp app = null!;

    public async Task InitializeAsync() =>
        app = await TestFunctionApp.StartAsync(storage.ConnectionString, configure: builder => builder.Services.AddSingleton(script).AddSingleton<IWorkflowSteps, ScriptedSteps>());

    public async Task DisposeAsync() => await app.DisposeAsync();

    private WorkflowRunner Runner => app.Services.GetRequiredService<WorkflowRunner>();

    private WorkflowStore Store => app.Services.GetRequiredService<WorkflowStore>();

    private async Task<WorkflowInstanceEntity> EndedAsync(string id)
    {
        WorkflowInstanceEntity? instance = null;
        await Eventually.HoldsAsync(async () => (instance = await Store.FindAsync(id, CancellationToken.None))?.Status is WorkflowStatus.Completed or WorkflowStatus.Failed, $"workflow {id} ended");
        return instance!;
    }

    private static string NewId() => "scripted." + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task A_workflow_runs_each_step_once_in_order_and_records_every_move()
    {
        var id = NewId();

        await Runner.StartAsync("scripted", id, new Dictionary<string, string> { ["who"] = "x" }, CancellationToken.None);

        Assert.Equal(WorkflowStatus.Completed, (await EndedAsync(id)).Status);
        Assert.Equal(["one", "two", "three"], script.Runs.Where(r => r.Instance == id).Select(r => r.Step));
        var history = await Store.HistoryAsync(id, CancellationToken.None);
        Assert.Equal(["started", "step-succeeded", "step-succeeded", "step-succeeded"], history.Select(h => h.Event));
        Assert.Equal("running one (attempt 1)", history[0].To);
        Assert.Equal("completed", history[^1].To);
    }

    [Fact]
    public async Task A_retryable_failure_is_tried_again_after_its_delay_and_the_workflow_goes_on()
    {
        var id = NewId();
        script.Failures[$"{id}/two"] = (2, true);

        await Runner.StartAsync("scripted", id, new Dictionary<string, string>(), CancellationToken.None);

        Assert.Equal(WorkflowStatus.Completed, (await EndedAsync(id)).Status);
        Assert.Equal([1, 2, 3], script.Runs.Where(r => r.Instance == id && r.Step == "two").Select(r => r.Attempt));
        var history = await Store.HistoryAsync(id, CancellationToken.None);
        var failures = history.Where(h => h.Event == "step-failed").ToList();
        Assert.Equal(2, failures.Count);
        Assert.Contains("the scripted cause", failures[0].Error, StringComparison.Ordinal);
        // A second before the second attempt, then twice that before the third.
        var succeeded = history.Single(h => h.Event == "step-succeeded" && h.From.Contains("two", StringComparison.Ordinal));
        Assert.True(failures[1].At - failures[0].At >= TimeSpan.FromMilliseconds(950), $"the first retry waited {(failures[1].At - failures[0].At).TotalMilliseconds} ms");
        Assert.True(succeeded.At - failures[1].At >= TimeSpan.FromMilliseconds(1950), $"the second retry waited {(succeeded.At - failures[1].At).TotalMilliseconds} ms");
    }

    [Fact]
    public async Task After_the_last_attempt_the_workflow_is_failed_with_the_real_error_and_an_admin_resume_finishes_it()
    {
        var id = NewId();
        script.Failures[$"{id}/three"] = (3, true);

        await Runner.StartAsync("scripted", id, new Dictionary<string, string>(), CancellationToken.None);
        var failed = await EndedAsync(id);

        Assert.Equal((WorkflowStatus.Failed, "three", 3), (failed.Status, failed.Step, failed.Attempt));
        Assert.Contains("WorkflowStepException: three failed as scripted", failed.LastError, StringComparison.Ordinal);
        Assert.Contains("the scripted cause", failed.LastError, StringComparison.Ordinal);

        Assert.True(await Runner.ResumeAsync(id, "master", CancellationToken.None));
        await Eventually.HoldsAsync(async () => (await Store.FindAsync(id, CancellationToken.None))?.Status == WorkflowStatus.Completed, "the resumed workflow completed");
        Assert.False(await Runner.ResumeAsync(id, "master", CancellationToken.None));
        Assert.Contains(await Store.HistoryAsync(id, CancellationToken.None), h => h.Event == "resumed" && h.By == "master");
    }

    [Fact]
    public async Task A_permanent_failure_is_not_retried()
    {
        var id = NewId();
        script.Failures[$"{id}/one"] = (1, false);

        await Runner.StartAsync("scripted", id, new Dictionary<string, string>(), CancellationToken.None);

        Assert.Equal((WorkflowStatus.Failed, 1), ((await EndedAsync(id)).Status, (await EndedAsync(id)).Attempt));
        Assert.Single(script.Runs, r => r.Instance == id);
    }

    [Fact]
    public async Task Starting_twice_and_a_duplicated_tick_run_each_step_once()
    {
        var id = NewId();

        var first = Runner.StartAsync("scripted", id, new Dictionary<string, string>(), CancellationToken.None);
        var second = Runner.StartAsync("scripted", id, new Dictionary<string, string>(), CancellationToken.None);
        await Task.WhenAll(first, second);
        await app.Services.GetRequiredService<Functions.Hosting.Queues.QueueWriter>().SendAsync(WorkflowTick.QueueName, new WorkflowTick(id, "one", 1));

        Assert.Equal(WorkflowStatus.Completed, (await EndedAsync(id)).Status);
        // Every tick has been handled (a message leaves the queue only when its handler returned); none is delayed here.
        var ticks = app.Services.GetRequiredService<Azure.Storage.Queues.QueueServiceClient>().GetQueueClient(WorkflowTick.QueueName);
        await Eventually.HoldsAsync(async () => (await ticks.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0, "every tick is handled");
        Assert.Equal(["one", "two", "three"], script.Runs.Where(r => r.Instance == id).Select(r => r.Step));
    }

    [Fact]
    public async Task A_tick_lost_after_a_move_is_sent_again_by_the_sweeper()
    {
        var id = NewId();
        var clock = TimeProvider.System.GetUtcNow();
        // An instance whose move to step two was recorded but whose tick never went out.
        var instance = new WorkflowInstanceEntity { PartitionKey = id, Workflow = "scripted", Status = WorkflowStatus.Running, Step = "two", Attempt = 1, NextRunAt = clock - TimeSpan.FromMinutes(5), CreatedAt = clock, UpdatedAt = clock };
        Assert.True(await Store.TryAddAsync(instance, CancellationToken.None));

        await ActivatorUtilities.CreateInstance<SweepWorkflows>(app.Services).Run(new Functions.Hosting.Timers.TimerInfo(null, false, clock), CancellationToken.None);

        Assert.Equal(WorkflowStatus.Completed, (await EndedAsync(id)).Status);
        Assert.Equal(["two", "three"], script.Runs.Where(r => r.Instance == id).Select(r => r.Step));
    }
}
