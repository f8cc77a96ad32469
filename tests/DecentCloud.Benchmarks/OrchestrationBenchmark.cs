using System.Diagnostics;
using System.Text.Json;
using DecentCloud.FunctionsHost.Durable;
using DecentCloud.Testing;
using DurableTask.AzureStorage;
using DurableTask.AzureStorage.Tracking;
using DurableTask.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DecentCloud.Benchmarks;

/// <param name="Sessions">Sessions of each side (a fresh Azurite, the side started, warm-up, the sequential runs, the bursts).</param>
/// <param name="Sequential">Orchestrations run one after the other in each session, for the latency.</param>
/// <param name="Bursts">Bursts of <paramref name="BurstSize"/> orchestrations started at once, in each session.</param>
internal sealed record OrchestrationPlan(int Sessions, int WarmUps, int Sequential, int Bursts, int BurstSize)
{
    public static OrchestrationPlan Full { get; } = new(2, 5, 25, 2, 100);

    public static OrchestrationPlan Quick { get; } = new(1, 2, 5, 1, 20);
}

internal enum OrchestrationSide
{
    /// <summary>The sample app's Chain, its orchestrator and activities invocations of a real worker, run by the local host.</summary>
    Host,

    /// <summary>The same orchestration as Durable Task Framework classes, run by a TaskHubWorker in the benchmark's process.</summary>
    Direct,
}

/// <param name="StoredMs">From just before the start request until the completion time the task hub recorded.</param>
/// <param name="ObservedMs">From just before the start request until a poll saw it completed (includes up to one poll interval).</param>
internal sealed record SequentialRun(double StoredMs, double ObservedMs);

/// <param name="WallMs">From just before the first start request until the last completion the task hub recorded.</param>
/// <param name="StartMs">Until every start request had been answered.</param>
/// <param name="LatenciesMs">Each orchestration's recorded completion time less its recorded creation time.</param>
internal sealed record BurstResult(int Size, double WallMs, double StartMs, IReadOnlyList<double> LatenciesMs, CpuSample Cpu)
{
    public double SelfCpuMsPerOrchestration => Cpu.Self.TotalMilliseconds / Size;

    public double WorkerCpuMsPerOrchestration => Cpu.Worker.TotalMilliseconds / Size;
}

/// <summary>One session of one side: its sequential runs and bursts, and the warnings or errors logged meanwhile.</summary>
internal sealed record OrchestrationSession(OrchestrationSide Side, int Number, double StartedMs, IReadOnlyList<SequentialRun> Sequential, IReadOnlyList<BurstResult> Bursts, IReadOnlyList<ProblemKind> Problems);

/// <summary>
/// A three-activity orchestration through the local Functions host and a real worker (the sample app's <c>Chain</c>)
/// against the same orchestration run by the Durable Task Framework directly, on the same kind of Azurite with the same
/// task hub settings: the latency of one at a time, and the wall time of a burst started at once.
/// </summary>
internal static class OrchestrationBenchmark
{
    /// <summary>Between two reads of one orchestration's state while waiting for it.</summary>
    public static readonly TimeSpan SequentialPoll = TimeSpan.FromMilliseconds(20);

    /// <summary>Between two queries of a burst's completed orchestrations.</summary>
    public static readonly TimeSpan BurstPoll = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan SequentialDeadline = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan BurstDeadline = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(5);

    public static async Task<OrchestrationResult> RunAsync(BuildOutputs outputs, OrchestrationPlan plan, CancellationToken cancellationToken)
    {
        var options = new LocalTaskHubOptions();
        Progress.Line($"orchestrations: task hub settings of both sides (the local host's): {options.PartitionCount} partitions, queues polled at most every " +
                      $"{options.MaxQueuePollingInterval.TotalSeconds:F0} s when idle, at most {options.MaxConcurrentOrchestratorFunctions} orchestrator and " +
                      $"{options.MaxConcurrentActivityFunctions} activity work items at once");
        var loadBefore = LoadAverage.Read();
        var sessions = new List<OrchestrationSession>();
        for (var session = 1; session <= plan.Sessions; session++)
        {
            // ABBA: neither side always goes first.
            var order = session % 2 == 1 ? new[] { OrchestrationSide.Host, OrchestrationSide.Direct } : [OrchestrationSide.Direct, OrchestrationSide.Host];
            foreach (var side in order)
            {
                sessions.Add(await SessionAsync(outputs, plan, side, session, cancellationToken));
            }
        }

        return new OrchestrationResult(plan, options, sessions, loadBefore, LoadAverage.Read());
    }

    private static async Task<OrchestrationSession> SessionAsync(BuildOutputs outputs, OrchestrationPlan plan, OrchestrationSide side, int number, CancellationToken cancellationToken)
    {
        var label = $"session {number}/{plan.Sessions} {Name(side)}";
        Progress.Line($"orchestrations: {label}: starting a fresh private Azurite");
        await using var azurite = await Azurite.StartAsync(cancellationToken);
        var hubName = $"bench{side.ToString().ToLowerInvariant()}{number}";
        var log = new HostLogTap();
        var started = Stopwatch.StartNew();
        await using IChainDriver driver = side == OrchestrationSide.Host
            ? await HostDriver.StartAsync(outputs, azurite.ConnectionString, hubName, log, cancellationToken)
            : await DirectDriver.StartAsync(azurite.ConnectionString, hubName, log);
        var startedMs = started.Elapsed.TotalMilliseconds;
        Progress.Line($"orchestrations: {label}: started in {startedMs:F0} ms (task hub {hubName})");
        var reader = Service(azurite.ConnectionString, hubName, NullLoggerFactoryInstance);

        for (var i = 1; i <= plan.WarmUps; i++)
        {
            await SequentialAsync(driver, reader, $"warm{i}", cancellationToken);
        }

        var sequential = new List<SequentialRun>();
        for (var i = 1; i <= plan.Sequential; i++)
        {
            sequential.Add(await SequentialAsync(driver, reader, $"seq{i}", cancellationToken));
        }

        Progress.Line($"orchestrations: {label}: {plan.Sequential} one at a time, median {Stats.Median(sequential.Select(r => r.StoredMs)):F0} ms " +
                      $"(p90 {Stats.Percentile(sequential.Select(r => r.StoredMs), 90):F0} ms; seen by polling {Stats.Median(sequential.Select(r => r.ObservedMs)):F0} ms)");

        var bursts = new List<BurstResult>();
        for (var b = 1; b <= plan.Bursts; b++)
        {
            var burst = await BurstAsync(driver, reader, $"{label} burst {b}/{plan.Bursts}", $"burst{b}-", plan.BurstSize, cancellationToken);
            bursts.Add(burst);
        }

        return new OrchestrationSession(side, number, startedMs, sequential, bursts, log.ProblemKinds);
    }

    public static string Name(OrchestrationSide side) => side == OrchestrationSide.Host ? "local host and worker" : "Durable Task Framework directly";

    /// <summary>One orchestration, waited for by reading its state every <see cref="SequentialPoll"/>.</summary>
    private static async Task<SequentialRun> SequentialAsync(IChainDriver driver, AzureStorageOrchestrationService reader, string instanceId, CancellationToken cancellationToken)
    {
        var startedAt = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        await driver.StartAsync(instanceId, instanceId, cancellationToken);
        while (true)
        {
            var state = (await reader.GetOrchestrationStateAsync(instanceId, allExecutions: false)).FirstOrDefault();
            if (state is not null && IsDone(state.OrchestrationStatus))
            {
                var observed = clock.Elapsed.TotalMilliseconds;
                Expect(state, instanceId);
                return new SequentialRun((state.CompletedTime - startedAt).TotalMilliseconds, observed);
            }

            if (clock.Elapsed > SequentialDeadline)
            {
                throw new BenchmarkException($"Orchestration {instanceId} is {state?.OrchestrationStatus.ToString() ?? "not there"} after {SequentialDeadline.TotalSeconds:F0} s.");
            }

            await Task.Delay(SequentialPoll, cancellationToken);
        }
    }

    /// <summary><paramref name="size"/> orchestrations started at once, waited for by querying the completed ones every <see cref="BurstPoll"/>.</summary>
    private static async Task<BurstResult> BurstAsync(IChainDriver driver, AzureStorageOrchestrationService reader, string label, string prefix, int size, CancellationToken cancellationToken)
    {
        var ids = Enumerable.Range(1, size).Select(i => $"{prefix}{i:D4}").ToArray();
        var cpu = driver.Cpu();
        var startedAt = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(ids.Select(id => driver.StartAsync(id, id, cancellationToken)));
        var startMs = clock.Elapsed.TotalMilliseconds;
        var nextProgress = ProgressEvery;
        while (true)
        {
            var done = await DoneAsync(reader, prefix, cancellationToken);
            if (done.Count == size)
            {
                var used = driver.Cpu() - cpu;
                foreach (var state in done)
                {
                    Expect(state, state.OrchestrationInstance.InstanceId);
                }

                var wall = (done.Max(s => s.CompletedTime) - startedAt).TotalMilliseconds;
                var latencies = done.Select(s => (s.CompletedTime - s.CreatedTime).TotalMilliseconds).ToList();
                var burst = new BurstResult(size, wall, startMs, latencies, used);
                Progress.Line($"orchestrations: {label}: {size} at once in {wall / 1000:F2} s (started in {startMs:F0} ms; each took median {Stats.Median(latencies) / 1000:F2} s; " +
                              $"CPU per orchestration: this process {burst.SelfCpuMsPerOrchestration:F1} ms, worker {burst.WorkerCpuMsPerOrchestration:F1} ms)");
                return burst;
            }

            if (clock.Elapsed > BurstDeadline)
            {
                throw new BenchmarkException($"{label}: {done.Count} of {size} orchestrations ended within {BurstDeadline.TotalMinutes:F0} minutes.");
            }

            if (clock.Elapsed > nextProgress)
            {
                Progress.Line($"orchestrations: {label} ... {done.Count}/{size} after {clock.Elapsed.TotalSeconds:F0} s");
                nextProgress += ProgressEvery;
            }

            await Task.Delay(BurstPoll, cancellationToken);
        }
    }

    private static async Task<List<OrchestrationState>> DoneAsync(AzureStorageOrchestrationService reader, string prefix, CancellationToken cancellationToken)
    {
        var condition = new OrchestrationInstanceStatusQueryCondition
        {
            InstanceIdPrefix = prefix,
            RuntimeStatus = [OrchestrationStatus.Completed, OrchestrationStatus.Failed, OrchestrationStatus.Terminated, OrchestrationStatus.Canceled],
            FetchInput = false,
            FetchOutput = true,
        };
        var states = new List<OrchestrationState>();
        string? continuation = null;
        do
        {
            var page = await reader.GetOrchestrationStateAsync(condition, 1000, continuation!, cancellationToken);
            states.AddRange(page.OrchestrationState);
            continuation = page.ContinuationToken;
        }
        while (!string.IsNullOrEmpty(continuation));

        return states;
    }

    private static bool IsDone(OrchestrationStatus status) =>
        status is OrchestrationStatus.Completed or OrchestrationStatus.Failed or OrchestrationStatus.Terminated or OrchestrationStatus.Canceled;

    /// <summary>Completed, with the output three steps give its input.</summary>
    private static void Expect(OrchestrationState state, string input)
    {
        var output = state.OrchestrationStatus == OrchestrationStatus.Completed && !string.IsNullOrEmpty(state.Output)
            ? JsonSerializer.Deserialize<string>(state.Output)
            : null;
        if (output != input + "+1+2+3")
        {
            throw new BenchmarkException($"Orchestration {state.OrchestrationInstance.InstanceId} ended {state.OrchestrationStatus} with {state.Output}, not \"{input}+1+2+3\".");
        }
    }

    /// <summary>The Azure Storage provider with the local host's task hub settings (for the direct side's worker and client, and the state reader of both).</summary>
    private static AzureStorageOrchestrationService Service(string connectionString, string hubName, ILoggerFactory loggers) =>
        new(LocalTaskHub.ProviderSettings(new LocalTaskHubOptions { ConnectionString = connectionString, TaskHubName = hubName }, loggers));

    private static readonly ILoggerFactory NullLoggerFactoryInstance = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;

    private interface IChainDriver : IAsyncDisposable
    {
        Task StartAsync(string instanceId, string input, CancellationToken cancellationToken);

        CpuSample Cpu();
    }

    /// <summary>The local host runs the sample app; orchestrations are started through the host's task hub sidecar, as the worker's durable client starts them.</summary>
    private sealed class HostDriver(HostedApp app, ServiceProvider clientServices, DurableTaskClient client) : IChainDriver
    {
        public static async Task<HostDriver> StartAsync(BuildOutputs outputs, string connectionString, string hubName, HostLogTap log, CancellationToken cancellationToken)
        {
            var app = await HostedApp.StartAsync(outputs.SampleApp, SampleAppSettings.For(connectionString, noOpQueue: null, hubName), log, cancellationToken);
            var hub = app.Host.TaskHub ?? throw new BenchmarkException("The local host started no task hub for the sample app.");
            var services = new ServiceCollection()
                .AddLogging()
                .AddDurableTaskClient(builder => builder.UseGrpc(hub.Channel))
                .BuildServiceProvider();
            return new HostDriver(app, services, services.GetRequiredService<DurableTaskClient>());
        }

        public Task StartAsync(string instanceId, string input, CancellationToken cancellationToken) =>
            client.ScheduleNewOrchestrationInstanceAsync(SampleAppSettings.Orchestration, input, new StartOrchestrationOptions(instanceId), cancellationToken);

        public CpuSample Cpu() => app.Cpu();

        public async ValueTask DisposeAsync()
        {
            await clientServices.DisposeAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>A TaskHubWorker and a TaskHubClient in the benchmark's process, on the Azure Storage provider.</summary>
    private sealed class DirectDriver(TaskHubWorker worker, TaskHubClient client, ILoggerFactory loggers) : IChainDriver
    {
        public static async Task<DirectDriver> StartAsync(string connectionString, string hubName, HostLogTap log)
        {
            var loggers = LoggerFactory.Create(logging =>
            {
                logging.AddProvider(log);
                HostLogTap.Filter(logging);
            });
            var service = Service(connectionString, hubName, loggers);
            await service.CreateIfNotExistsAsync();
            var worker = new TaskHubWorker(service, loggers);
            worker.AddTaskOrchestrations(new NameValueObjectCreator<TaskOrchestration>(SampleAppSettings.Orchestration, "", typeof(DirectChain)));
            worker.AddTaskActivities(new NameValueObjectCreator<TaskActivity>(SampleAppSettings.Activity, "", typeof(DirectStep)));
            await worker.StartAsync();
            return new DirectDriver(worker, new TaskHubClient(service, null, loggers), loggers);
        }

        public Task StartAsync(string instanceId, string input, CancellationToken cancellationToken) =>
            client.CreateOrchestrationInstanceAsync(SampleAppSettings.Orchestration, "", instanceId, input);

        public CpuSample Cpu() => CpuSample.OfSelf();

        public async ValueTask DisposeAsync()
        {
            await worker.StopAsync(isForced: true);
            worker.Dispose();
            loggers.Dispose();
        }
    }
}
