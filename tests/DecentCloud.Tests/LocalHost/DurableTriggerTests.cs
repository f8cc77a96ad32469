using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using DecentCloud.Tests.Support;
using Microsoft.DurableTask.Client;
using Xunit.Abstractions;

namespace DecentCloud.Tests.LocalHost;

/// <summary>
/// Durable functions of a real isolated worker, run by the local Functions host: the orchestrator and its activities run
/// as invocations of the worker through the host's task hub; the worker's own durable client (the <c>durableClient</c>
/// binding) starts and reads instances through the hub's sidecar.
/// </summary>
public sealed class DurableTriggerTests(AzuriteFixture storage, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private static Dictionary<string, string?> Hub() => new() { ["SAMPLE_TASK_HUB"] = "s" + Guid.NewGuid().ToString("N")[..12] };

    /// <summary>A DurableTask client in the test, on the host's task hub (the worker's own client binding is not used here).</summary>
    private static ServiceProvider ClientOn(SampleHost app)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDurableTaskClient(builder => builder.UseGrpc(app.Host.TaskHub!.Channel));
        return services.BuildServiceProvider();
    }

    private static async Task<OrchestrationMetadata> RunAsync(SampleHost app, string input)
    {
        await using var services = ClientOn(app);
        var client = services.GetRequiredService<DurableTaskClient>();
        var id = await client.ScheduleNewOrchestrationInstanceAsync("Chain", input);
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        return await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, wait.Token);
    }

    [Fact]
    public async Task An_orchestration_runs_its_orchestrator_and_activities_as_invocations_of_the_worker_and_completes_with_their_output()
    {
        await using var app = await SampleHost.StartAsync(storage.ConnectionString, settings: Hub(), output: output);

        var done = await RunAsync(app, "a");

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal("a+1+2+3", done.ReadOutputAs<string>());
        Assert.Contains(app.Host.Triggers, t => t.StartsWith("Chain: orchestrationTrigger", StringComparison.Ordinal));
        Assert.Contains(app.Host.Triggers, t => t.StartsWith("Step: activityTrigger", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_task_hub_whose_storage_does_not_answer_at_start_up_is_created_once_it_does_and_then_runs_orchestrations()
    {
        var (proxy, throughProxy) = await StorageProxy.StartAsync(storage.ConnectionString, "QueueEndpoint");
        await using var _ = proxy;
        var down = new StrongBox<bool>(true);
        proxy.Fails = _ => Volatile.Read(ref down.Value);

        await using var app = await SampleHost.StartAsync(throughProxy, settings: Hub(), output: output);

        Assert.Null(app.Host.TaskHub);
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 1311);
        Volatile.Write(ref down.Value, false);
        await Eventually.HoldsAsync(() => app.Host.TaskHub is not null, "the task hub was created once storage answered", TimeSpan.FromSeconds(60));
        var done = await RunAsync(app, "a");
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 1312);
    }

    [Fact]
    public async Task A_failing_activity_fails_the_orchestration_with_the_workers_error()
    {
        await using var app = await SampleHost.StartAsync(storage.ConnectionString, settings: Hub(), output: output);

        var done = await RunAsync(app, "fail");

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.Contains("the step refused", done.SerializedOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_function_with_a_durable_client_binding_starts_an_orchestration_and_another_reads_its_output()
    {
        await using var app = await SampleHost.StartAsync(storage.ConnectionString, settings: Hub(), output: output);

        using var started = await app.Client.PostAsync("api/chains/a", content: null);

        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        Assert.False(string.IsNullOrEmpty(id));
        JsonElement status = default;
        await Eventually.HoldsAsync(
            async () =>
            {
                using var read = await app.Client.GetAsync($"api/chains/{id}");
                Assert.Equal(HttpStatusCode.OK, read.StatusCode);
                status = await read.Content.ReadFromJsonAsync<JsonElement>();
                return status.GetProperty("status").GetString() is not ("Pending" or "Running");
            },
            "the orchestration it started has ended",
            TimeSpan.FromSeconds(90));
        Assert.Equal("Completed", status.GetProperty("status").GetString());
        Assert.Equal("a+1+2+3", JsonSerializer.Deserialize<string>(status.GetProperty("output").GetString()!));
    }

    [Fact]
    public async Task Host_json_durable_client_limits_reach_the_workers_client_and_a_bad_one_stops_the_host_with_its_name()
    {
        // A 16-byte receive limit: the sidecar's answer to the start (which carries the 32-character instance id) is too large.
        var tiny = Hub();
        tiny["AzureFunctionsJobHost__extensions__durableTask__maxGrpcMessageSizeInBytes"] = "16";
        await using (var app = await SampleHost.StartAsync(storage.ConnectionString, settings: tiny, output: output))
        {
            using var started = await app.Client.PostAsync("api/chains/a", content: null);

            // The function fails (the sample app answers no failure itself, so the caller gets its worker's empty answer).
            Assert.NotEqual(HttpStatusCode.Accepted, started.StatusCode);
            await Eventually.HoldsAsync(() => app.Logs.Entries.Any(e => e.EventId.Id == 1213 && e.Message.Contains("StartChain", StringComparison.Ordinal)), "the host logged the invocation's failure");
            await Eventually.HoldsAsync(() => app.Logs.Entries.Any(e => e.Message.Contains("ResourceExhausted", StringComparison.Ordinal)), "the worker's client refused the answer");
        }

        var bad = Hub();
        bad["AzureFunctionsJobHost__extensions__durableTask__maxGrpcMessageSizeInBytes"] = "four megabytes";
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => SampleHost.StartAsync(storage.ConnectionString, settings: bad, output: output));
        Assert.Contains("maxGrpcMessageSizeInBytes", refused.Message, StringComparison.Ordinal);
    }
}
