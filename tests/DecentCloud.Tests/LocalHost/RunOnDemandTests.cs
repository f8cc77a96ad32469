using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using DecentCloud.Tests.Support;
using Xunit.Abstractions;

namespace DecentCloud.Tests.LocalHost;

/// <summary>
/// The admin call that runs a non-HTTP function on demand, POST /admin/functions/{name}, as the Functions host has it:
/// the master key, <c>{"input": "..."}</c>, 202 once the run has begun.
/// </summary>
public sealed class RunOnDemandTests(AzuriteFixture storage, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string CallerTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

    [Fact]
    public async Task Timer_function_runs_on_demand_now_not_past_due_with_its_schedule_status_which_it_leaves_alone()
    {
        await using var app = await SampleHost.StartAsync(storage.ConnectionString, output: output);
        var status = new BlobServiceClient(storage.ConnectionString).GetBlobContainerClient("azure-webjobs-hosts").GetBlobClient($"timers/{app.Names.HostId}/Tick/status");
        await Eventually.HoldsAsync(async () => (await status.ExistsAsync()).Value, "the schedule monitor wrote Tick's status");
        var before = (await status.DownloadContentAsync()).Value;
        var next = before.Content.ToObjectFromJson<StatusRecord>()!.Next;

        using var withHeader = await app.Client.SendAsync(Run("admin/functions/Tick", """{"input": ""}""", TestKeys.Master));
        using var withCode = await app.Client.SendAsync(Run($"admin/functions/tick?code={TestKeys.Master}", """{"input": "ignored"}"""));

        Assert.Equal(HttpStatusCode.Accepted, withHeader.StatusCode);
        Assert.Empty(await withHeader.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.Accepted, withCode.StatusCode);
        await Eventually.HoldsAsync(async () => (await MessagesAsync(app, app.Names.Ticks)).Count == 2, "Tick ran twice");
        foreach (var tick in await MessagesAsync(app, app.Names.Ticks))
        {
            Assert.False(tick.GetProperty("IsPastDue").GetBoolean());
            Assert.Equal(next, tick.GetProperty("Occurrence").GetDateTimeOffset());
        }

        var after = (await status.DownloadContentAsync()).Value;
        Assert.Equal(before.Details.ETag, after.Details.ETag);
        await Eventually.HoldsAsync(() => app.Logs.Entries.Count(e => e.EventId.Id == 1228) == 2, "both runs are logged as done");
    }

    [Fact]
    public async Task Queue_function_runs_on_demand_with_the_input_as_a_first_delivery_that_never_was_on_its_queue_even_when_disabled()
    {
        // Disabled, the function has no listener: the run on demand is the only way it runs, and its queue is never made.
        await using var app = await SampleHost.StartAsync(
            storage.ConnectionString,
            settings: new Dictionary<string, string?> { ["AzureWebJobs.ProcessWork.Disabled"] = "true" },
            output: output);
        using var request = Run("admin/functions/ProcessWork", JsonSerializer.Serialize(new { input = """{"id": "m1", "fail": false}""" }), TestKeys.Master);
        request.Headers.Add("traceparent", $"00-{CallerTraceId}-00f067aa0ba902b7-01");

        using var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await Eventually.HoldsAsync(async () => (await MessagesAsync(app, app.Names.Done)).Count == 1, "the work item was processed");
        var done = Assert.Single(await MessagesAsync(app, app.Names.Done));
        Assert.Equal("m1", done.GetProperty("Id").GetString());
        Assert.Equal(1, done.GetProperty("DequeueCount").GetInt64());
        Assert.False((await app.Queue(app.Names.Work).ExistsAsync()).Value);

        // The run continues the caller's trace, in the host's lines and the worker's.
        await Eventually.HoldsAsync(() => app.Logs.Entries.Any(e => e.EventId.Id == 1228), "the run is logged as done");
        Assert.Equal(CallerTraceId, Assert.Single(app.Logs.Entries, e => e.EventId.Id == 1227).TraceId);
        Assert.Equal(CallerTraceId, Assert.Single(app.Logs.Entries, e => e.EventId.Id == 1228).TraceId);
        Assert.Equal(CallerTraceId, Assert.Single(app.Logs.Entries, e => e.Message.StartsWith("Processed work item m1", StringComparison.Ordinal)).TraceId);
    }

    [Fact]
    public async Task Failing_run_on_demand_is_logged_and_not_retried()
    {
        await using var app = await SampleHost.StartAsync(storage.ConnectionString, output: output);

        using var response = await app.Client.SendAsync(Run("admin/functions/ProcessWork", JsonSerializer.Serialize(new { input = """{"id": "f1", "fail": true}""" }), TestKeys.Master));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await Eventually.HoldsAsync(() => app.Logs.Entries.Any(e => e.EventId.Id == 1229), "the failed run is logged");
        var failed = Assert.Single(app.Logs.Entries, e => e.EventId.Id == 1229);
        Assert.Contains("Work item f1 asked to fail (attempt 1)", failed.Message, StringComparison.Ordinal);
        Assert.Contains(app.Logs.Entries, e => e.TraceId == failed.TraceId && e.Exception?.ToString().Contains("Work item f1 asked to fail", StringComparison.Ordinal) == true);
        Assert.Empty(await MessagesAsync(app, app.Names.Done));
        Assert.Empty(await MessagesAsync(app, app.Names.Poison));
    }

    [Fact]
    public async Task Run_on_demand_is_refused_without_the_master_key_for_an_unknown_http_or_durable_function_and_for_a_bad_body()
    {
        await using var app = await SampleHost.StartAsync(storage.ConnectionString, output: output);
        const string Body = """{"input": "{\"id\": \"r1\", \"fail\": false}"}""";

        using var noKey = await app.Client.SendAsync(Run("admin/functions/ProcessWork", Body));
        using var hostKey = await app.Client.SendAsync(Run("admin/functions/ProcessWork", Body, TestKeys.Host));
        using var wrongKey = await app.Client.SendAsync(Run("admin/functions/ProcessWork?code=not-a-key-of-this-app-0123456789abcdef", Body));
        using var unknown = await app.Client.SendAsync(Run("admin/functions/NoSuchFunction", Body, TestKeys.Master));
        using var http = await app.Client.SendAsync(Run("admin/functions/Greet", Body, TestKeys.Master));
        using var activity = await app.Client.SendAsync(Run("admin/functions/Step", Body, TestKeys.Master));
        using var notJson = await app.Client.SendAsync(Run("admin/functions/ProcessWork", """{"input": """, TestKeys.Master));
        using var empty = await app.Client.SendAsync(Run("admin/functions/ProcessWork", "", TestKeys.Master));
        using var array = await app.Client.SendAsync(Run("admin/functions/ProcessWork", """["a"]""", TestKeys.Master));
        using var number = await app.Client.SendAsync(Run("admin/functions/ProcessWork", """{"input": 5}""", TestKeys.Master));
        using var noInput = await app.Client.SendAsync(Run("admin/functions/ProcessWork", "{}", TestKeys.Master));

        await ApiAssert.ProblemAsync(noKey, HttpStatusCode.Unauthorized);
        await ApiAssert.ProblemAsync(hostKey, HttpStatusCode.Unauthorized);
        await ApiAssert.ProblemAsync(wrongKey, HttpStatusCode.Unauthorized);
        await ApiAssert.ProblemAsync(unknown, HttpStatusCode.NotFound);
        var httpProblem = await ApiAssert.ProblemAsync(http, HttpStatusCode.BadRequest);
        Assert.Contains("GET /api/greet/{name}", httpProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("activityTrigger", (await ApiAssert.ProblemAsync(activity, HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        foreach (var bad in new[] { notJson, empty, array, number, noInput })
        {
            await ApiAssert.ProblemAsync(bad, HttpStatusCode.BadRequest);
        }

        Assert.Equal(3, app.Logs.Entries.Count(e => e.EventId.Id == 1226));
        Assert.DoesNotContain(app.Logs.Entries, e => e.Message.Contains("not-a-key-of-this-app", StringComparison.Ordinal));
        Assert.DoesNotContain(app.Logs.Entries, e => e.EventId.Id == 1227);
        Assert.Empty(await MessagesAsync(app, app.Names.Done));
    }

    private static HttpRequestMessage Run(string path, string body, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.Add("x-functions-key", key);
        }

        return request;
    }

    private static async Task<List<JsonElement>> MessagesAsync(SampleHost app, string queueName)
    {
        var queue = app.Queue(queueName);
        return (await queue.ExistsAsync()).Value
            ? (await queue.PeekMessagesAsync(32)).Value.Select(m => JsonDocument.Parse(m.Body.ToString()).RootElement).ToList()
            : [];
    }

    private sealed record StatusRecord(DateTimeOffset Last, DateTimeOffset Next, DateTimeOffset LastUpdated);
}
