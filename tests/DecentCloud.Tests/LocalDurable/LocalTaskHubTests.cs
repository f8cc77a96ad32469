using System.Collections.Concurrent;
using System.Text.Json;
using DecentCloud.FunctionsHost.Durable;
using DecentCloud.Tests.Support;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker.Grpc;

namespace DecentCloud.Tests.LocalDurable;

/// <summary>
/// The local task hub with a stand-in for the worker that runs each invocation as the isolated worker's Durable
/// extension does: an orchestrator through the DurableTask SDK's own <see cref="GrpcOrchestrationRunner"/> (base64
/// OrchestratorRequest in, base64 OrchestratorResponse out), an activity as a function of its JSON input. The client is
/// the SDK's gRPC DurableTaskClient on the hub's rpcBaseUrl, as the worker's durable client binding gets it.
/// </summary>
public sealed class LocalTaskHubTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private static string HubName() => "t" + Guid.NewGuid().ToString("N")[..12];

    private static ServiceProvider ClientOn(LocalTaskHub hub)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        var http = new HttpClient();
        http.DefaultRequestHeaders.Add("Durable-TaskHub", hub.TaskHubName);
        http.DefaultRequestHeaders.Add("Durable-ConnectionName", "AzureWebJobsStorage");
        services.AddDurableTaskClient(builder => builder.UseGrpc(Grpc.Net.Client.GrpcChannel.ForAddress(hub.RpcBaseUrl, new Grpc.Net.Client.GrpcChannelOptions { HttpClient = http, DisposeHttpClient = true })));
        return services.BuildServiceProvider();
    }

    private async Task<LocalTaskHub> StartAsync(string hubName, SimulatedWorker worker) =>
        await LocalTaskHub.StartAsync(
            new LocalTaskHubOptions { ConnectionString = storage.ConnectionString, TaskHubName = hubName, PartitionCount = 1, WorkItemVisibilityTimeout = TimeSpan.FromSeconds(5), ControlQueueVisibilityTimeout = TimeSpan.FromSeconds(5) },
            worker,
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);

    [Fact]
    public async Task An_orchestration_of_three_activities_runs_as_function_invocations_and_completes_with_their_output()
    {
        var worker = new SimulatedWorker();
        await using var hub = await StartAsync(HubName(), worker);
        await using var services = ClientOn(hub);
        var client = services.GetRequiredService<DurableTaskClient>();

        var id = await client.ScheduleNewOrchestrationInstanceAsync(nameof(Chain), "a");
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var done = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, wait.Token);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal("a+1+2+3", done.ReadOutputAs<string>());
        Assert.Equal(["a", "a+1", "a+1+2"], worker.ActivityInputs.Where(i => i.InstanceId == id).Select(i => JsonSerializer.Deserialize<string>(i.Input!)!).ToArray());
        Assert.True(worker.OrchestratorRuns.Count(r => r == id) >= 4, "the orchestrator ran once per step and once to finish");
    }

    [Fact]
    public async Task A_failing_activity_fails_the_orchestration_with_the_activitys_error()
    {
        var worker = new SimulatedWorker();
        await using var hub = await StartAsync(HubName(), worker);
        await using var services = ClientOn(hub);
        var client = services.GetRequiredService<DurableTaskClient>();

        var id = await client.ScheduleNewOrchestrationInstanceAsync(nameof(Chain), "fail");
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var done = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, wait.Token);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        // The Azure Storage provider keeps the failure as the instance's output; the inner error is in the history only.
        Assert.Contains("Task 'Step' (#0) failed", done.SerializedOutput, StringComparison.Ordinal);
        Assert.Contains("the step refused", done.SerializedOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_host_that_stops_mid_orchestration_leaves_it_to_the_next_host_which_completes_it()
    {
        var hubName = HubName();
        var first = new SimulatedWorker { HoldSecondStep = new TaskCompletionSource() };
        var id = "";
        await using (var hub = await StartAsync(hubName, first))
        {
            await using var services = ClientOn(hub);
            id = await services.GetRequiredService<DurableTaskClient>().ScheduleNewOrchestrationInstanceAsync(nameof(Chain), "x");
            await first.SecondStepStarted.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }

        var second = new SimulatedWorker();
        await using var restarted = await StartAsync(hubName, second);
        await using var again = ClientOn(restarted);
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var done = await again.GetRequiredService<DurableTaskClient>().WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, wait.Token);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal("x+1+2+3", done.ReadOutputAs<string>());
        // The first step finished before the stop and is not run again; the interrupted one runs again on the next host.
        Assert.DoesNotContain(second.ActivityInputs, i => i.InstanceId == id && JsonSerializer.Deserialize<string>(i.Input!) == "x");
        Assert.Contains(second.ActivityInputs, i => i.InstanceId == id && JsonSerializer.Deserialize<string>(i.Input!) == "x+1");
    }

    /// <summary>Three steps, each an activity that appends its number to the text.</summary>
    private sealed class Chain : TaskOrchestrator<string, string>
    {
        public override async Task<string> RunAsync(TaskOrchestrationContext context, string input)
        {
            var one = await context.CallActivityAsync<string>(nameof(Step), input);
            var two = await context.CallActivityAsync<string>(nameof(Step), one);
            return await context.CallActivityAsync<string>(nameof(Step), two);
        }
    }

    private static class Step
    {
        public static string Run(string input) => input == "fail"
            ? throw new InvalidOperationException("the step refused", new TimeoutException("the inner cause"))
            : input + "+" + (input.Count(c => c == '+') + 1);
    }

    /// <summary>What the isolated worker does with the invocations the local host sends it, for the durable triggers.</summary>
    private sealed class SimulatedWorker : IDurableFunctionInvoker
    {
        public ConcurrentQueue<string> OrchestratorRuns { get; } = new();

        public ConcurrentQueue<(string InstanceId, string? Input)> ActivityInputs { get; } = new();

        /// <summary>When set, the second step's invocation waits on it (or on the host stopping) and never returns a result.</summary>
        public TaskCompletionSource? HoldSecondStep { get; init; }

        public TaskCompletionSource SecondStepStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<string> RunOrchestratorAsync(string name, string instanceId, string encodedRequest, CancellationToken cancellationToken)
        {
            Assert.Equal(nameof(Chain), name);
            OrchestratorRuns.Enqueue(instanceId);
            return Task.FromResult(GrpcOrchestrationRunner.LoadAndRun(encodedRequest, new Chain()));
        }

        public async Task<ActivityOutcome> RunActivityAsync(string name, string instanceId, string? input, CancellationToken cancellationToken)
        {
            Assert.Equal(nameof(Step), name);
            ActivityInputs.Enqueue((instanceId, input));
            var text = JsonSerializer.Deserialize<string>(input!)!;
            if (HoldSecondStep is { } hold && text.Count(c => c == '+') == 1)
            {
                SecondStepStarted.TrySetResult();
                await hold.Task.WaitAsync(cancellationToken);
            }

            try
            {
                return ActivityOutcome.Succeeded(JsonSerializer.Serialize(Step.Run(text)));
            }
            catch (InvalidOperationException ex)
            {
                return ActivityOutcome.Failed(ActivityFailure.From(ex));
            }
        }
    }
}
