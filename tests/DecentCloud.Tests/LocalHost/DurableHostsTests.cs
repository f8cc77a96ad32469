using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using DecentCloud.Tests.Support;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Xunit.Abstractions;

namespace DecentCloud.Tests.LocalHost;

/// <summary>
/// The sample app's Chain orchestration on several local hosts that share one storage account's task hub, and across a
/// host killed with SIGKILL.
/// </summary>
public sealed partial class DurableHostsTests(AzuriteFixture storage, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    /// <summary>The hub's control-queue partitions (the local default, as in Durable Functions).</summary>
    private const int Partitions = 4;

    [Fact]
    public async Task Two_hosts_on_one_storage_account_split_the_partitions_and_each_runs_the_orchestrations_of_its_own()
    {
        var names = SampleNames.Unique();
        var debug = new Dictionary<string, string?> { ["Logging__LogLevel__DecentCloud.FunctionsHost.Durable"] = "Debug" };
        var hosts = await Task.WhenAll(SampleHost.StartAsync(storage.ConnectionString, names, debug, output), SampleHost.StartAsync(storage.ConnectionString, names, debug, output));
        await using var first = hosts[0];
        await using var second = hosts[1];
        var hub = first.Host.TaskHub!.TaskHubName;
        var leases = new TableClient(storage.ConnectionString, hub + "Partitions");
        await Eventually.HoldsAsync(
            async () =>
            {
                var rows = await leases.QueryAsync<TableEntity>().ToListAsync();
                return rows.Count == Partitions && rows.All(r => r.GetString("NextOwner") is null)
                    && rows.GroupBy(r => r.GetString("CurrentOwner")).Count(g => g.Key is not null && g.Count() == Partitions / 2) == 2;
            },
            "each host holds half of the partitions");

        // A host reads the partition table, renews its leases and stops listening to a queue it gave away in one pass:
        // two renewals of every lease after the split mean both hosts have made a whole pass since.
        for (var pass = 0; pass < 2; pass++)
        {
            var renewed = (await leases.QueryAsync<TableEntity>().ToListAsync()).ToDictionary(r => r.RowKey, r => r.GetDateTimeOffset("ExpiresAt"));
            await Eventually.HoldsAsync(
                async () => (await leases.QueryAsync<TableEntity>().ToListAsync()).All(r => r.GetDateTimeOffset("ExpiresAt") > renewed[r.RowKey]),
                "every lease was renewed");
        }

        // Two instances in every partition, so that both hosts have orchestrations to run.
        var ids = InstanceIdsCoveringEveryPartition(perPartition: 2);
        await using var services = ClientOn(first);
        var client = services.GetRequiredService<DurableTaskClient>();
        foreach (var id in ids)
        {
            await client.ScheduleNewOrchestrationInstanceAsync("Chain", id, new StartOrchestrationOptions(id));
        }

        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        foreach (var id in ids)
        {
            var done = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, wait.Token);
            Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
            Assert.Equal(id + "+1+2+3", done.ReadOutputAs<string>());
        }

        // Each instance ran on the host that holds its partition, and only there.
        var ranOnFirst = OrchestratorsRun(first);
        var ranOnSecond = OrchestratorsRun(second);
        Assert.Equal(ids.Count / 2, ranOnFirst.Count);
        Assert.Equal(ids.Count / 2, ranOnSecond.Count);
        Assert.Empty(ranOnFirst.Intersect(ranOnSecond));
        Assert.Equal(ids.Order(), ranOnFirst.Union(ranOnSecond).Order());
    }

    [Fact]
    public async Task A_host_killed_between_two_activities_leaves_the_orchestration_to_a_restarted_host_which_makes_each_effect_once()
    {
        var names = SampleNames.Unique();
        using var folder = new TemporaryFolder("chain-records-");
        var records = folder.Path;
        var settings = new Dictionary<string, string?>
        {
            ["SAMPLE_STEP_RECORDS"] = records,
            ["AzureFunctionsJobHost__extensions__durableTask__storageProvider__controlQueueVisibilityTimeout"] = "00:00:03",
            ["AzureFunctionsJobHost__extensions__durableTask__storageProvider__workItemQueueVisibilityTimeout"] = "00:00:03",
        };
        var input = "c" + Guid.NewGuid().ToString("N")[..8];
        string[] steps = [input, input + "+1", input + "+1+2"];

        // The second step waits on the first host until that host is gone.
        var hold = Path.Combine(Directory.CreateDirectory(Path.Combine(records, "hold")).FullName, steps[1]);
        await File.WriteAllTextAsync(hold, "");
        string id;
        await using (var first = await HostProcess.StartAsync(storage.ConnectionString, names, settings, output))
        {
            using var started = await first.Client.PostAsync($"api/chains/{input}", content: null);
            Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
            id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
            await Eventually.HoldsAsync(() => Runs(records, steps[1]).Count > 0, "the second step began on the first host");
            Assert.Equal([steps[0]], Effects(records).Keys);

            await first.KillAsync();
            await Eventually.HoldsAsync(() => !HostProcess.IsRunning(first.WorkerProcessId), "the killed host's worker has exited", TimeSpan.FromSeconds(10));
        }

        File.Delete(hold);
        await using var second = await SampleHost.StartAsync(storage.ConnectionString, names, settings, output);
        JsonElement status = default;
        await Eventually.HoldsAsync(
            async () =>
            {
                using var read = await second.Client.GetAsync($"api/chains/{id}");
                status = await read.Content.ReadFromJsonAsync<JsonElement>();
                return status.GetProperty("status").GetString() is not ("Pending" or "Running");
            },
            "the restarted host finished the orchestration",
            TimeSpan.FromSeconds(60));

        Assert.Equal("Completed", status.GetProperty("status").GetString());
        Assert.Equal(input + "+1+2+3", JsonSerializer.Deserialize<string>(status.GetProperty("output").GetString()!));
        var effects = Effects(records);
        Assert.Equal(steps, effects.Keys.Order(StringComparer.Ordinal));

        // The first step had finished: it did not run again. The second ran on both hosts, its effect made once, by the
        // restarted host's worker; the third ran there.
        Assert.Single(Runs(records, steps[0]));
        var secondWorker = WorkerProcessId(second);
        Assert.Contains(Runs(records, steps[1]), run => run.WorkerProcessId != secondWorker);
        Assert.Equal(secondWorker, effects[steps[1]].WorkerProcessId);
        Assert.Equal(secondWorker, effects[steps[2]].WorkerProcessId);
    }

    private static ServiceProvider ClientOn(SampleHost app)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDurableTaskClient(builder => builder.UseGrpc(app.Host.TaskHub!.Channel));
        return services.BuildServiceProvider();
    }

    /// <summary>
    /// Instance ids with <paramref name="perPartition"/> in each control-queue partition: the Azure Storage provider puts
    /// an instance in partition FNV-1a(UTF-8 of its id) mod the partition count.
    /// </summary>
    private static List<string> InstanceIdsCoveringEveryPartition(int perPartition)
    {
        var byPartition = new List<string>[Partitions];
        for (var i = 0; i < Partitions; i++)
        {
            byPartition[i] = [];
        }

        while (byPartition.Any(p => p.Count < perPartition))
        {
            var id = "i" + Guid.NewGuid().ToString("N")[..12];
            var hash = 2166136261u;
            foreach (var b in Encoding.UTF8.GetBytes(id))
            {
                hash = unchecked((hash ^ b) * 16777619u);
            }

            var partition = byPartition[hash % Partitions];
            if (partition.Count < perPartition)
            {
                partition.Add(id);
            }
        }

        return byPartition.SelectMany(p => p).ToList();
    }

    private static HashSet<string> OrchestratorsRun(SampleHost app) =>
        app.Logs.Entries.Where(e => e.EventId.Id == 1307).Select(e => OrchestratorInstance().Match(e.Message).Groups[1].Value).ToHashSet();

    private static int WorkerProcessId(SampleHost app) =>
        int.Parse(WorkerStarted().Match(Assert.Single(app.Logs.Entries, e => e.EventId.Id == 1201).Message).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The runs of a step the sample's Step left in the records folder.</summary>
    private static List<StepRun> Runs(string records, string step) =>
        Directory.Exists(Path.Combine(records, "runs"))
            ? Directory.GetFiles(Path.Combine(records, "runs")).Select(f => StepRun.Parse(Path.GetFileName(f))).Where(r => r.Step == step).ToList()
            : [];

    /// <summary>Each step's effect, with the run that made it.</summary>
    private static Dictionary<string, StepRun> Effects(string records) =>
        Directory.Exists(Path.Combine(records, "effects"))
            ? Directory.GetFiles(Path.Combine(records, "effects")).ToDictionary(f => Path.GetFileName(f), f => StepRun.Parse(File.ReadAllText(f)))
            : [];

    [GeneratedRegex(@"of instance (\S+)$")]
    private static partial Regex OrchestratorInstance();

    [GeneratedRegex(@"Started the worker process (\d+)")]
    private static partial Regex WorkerStarted();

    private sealed class TemporaryFolder(string prefix) : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    /// <summary>One run of the sample's Step: <c>{input}.{worker process}.{run}</c>.</summary>
    private sealed record StepRun(string Step, int WorkerProcessId)
    {
        public static StepRun Parse(string name)
        {
            var parts = name.Split('.');
            return new StepRun(string.Join('.', parts[..^2]), int.Parse(parts[^2], System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
