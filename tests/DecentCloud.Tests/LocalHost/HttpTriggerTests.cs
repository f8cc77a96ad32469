using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using DecentCloud.Tests.Support;
using Xunit.Abstractions;

namespace DecentCloud.Tests.LocalHost;

/// <summary>HTTP functions of a real isolated worker, run by the local Functions host: routes, keys, failures.</summary>
public sealed partial class HttpTriggerTests(AzuriteFixture storage, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string CallerTraceId = "0af7651916cd43dd8448eb211c80319c";
    private const string CallerTraceParent = $"00-{CallerTraceId}-b7ad6b7169203331-01";

    [Fact]
    public async Task Http_function_answers_with_its_route_value_and_query_in_the_callers_trace()
    {
        await using var app = await SampleHost.StartAsync(storage.ConnectionString, output: output);
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/greet/bob?style=warm");
        request.Headers.Add("traceparent", CallerTraceParent);

        using var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var greeting = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("bob", greeting.GetProperty("name").GetString());
        Assert.Equal("warm", greeting.GetProperty("style").GetString());
        Assert.Equal(CallerTraceId, greeting.GetProperty("traceId").GetString());
    }

    [Fact]
    public async Task Function_level_function_refuses_a_call_without_a_valid_key_and_answers_one_with_a_host_or_master_key()
    {
        await using var app = await SampleHost.StartAsync(storage.ConnectionString, output: output);

        using var noKey = await app.Client.PostAsync("api/echo", new StringContent("hello"));
        using var wrongKey = await app.Client.SendAsync(Post("api/echo", "hello", key: "not-a-key-of-this-app-0123456789abcdef"));
        using var hostKey = await app.Client.SendAsync(Post("api/echo", "hello with a host key", key: TestKeys.Host));
        using var masterInQuery = await app.Client.PostAsync($"api/echo?code={TestKeys.Master}", new StringContent("hello with the master key"));

        await ApiAssert.ProblemAsync(noKey, HttpStatusCode.Unauthorized);
        await ApiAssert.ProblemAsync(wrongKey, HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, hostKey.StatusCode);
        Assert.Equal("hello with a host key", await hostKey.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, masterInQuery.StatusCode);
        Assert.Equal("hello with the master key", await masterInQuery.Content.ReadAsStringAsync());
        Assert.Equal(2, app.Logs.Entries.Count(e => e.EventId.Id == 1212));
        Assert.DoesNotContain(app.Logs.Entries, e => e.Message.Contains("not-a-key-of-this-app", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Admin_level_function_opens_only_to_the_master_key()
    {
        await using var app = await SampleHost.StartAsync(storage.ConnectionString, output: output);

        using var noKey = await app.Client.GetAsync("api/v1/admin/report");
        using var hostKey = await app.Client.GetAsync($"api/v1/admin/report?code={TestKeys.Host}");
        using var masterKey = await app.Client.SendAsync(Get("api/v1/admin/report", TestKeys.Master));

        await ApiAssert.ProblemAsync(noKey, HttpStatusCode.Unauthorized);
        await ApiAssert.ProblemAsync(hostKey, HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, masterKey.StatusCode);
        Assert.Equal("all well", (await masterKey.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Failing_http_function_is_answered_as_the_worker_answers_it_and_its_trace_id_finds_the_workers_log_of_the_exception()
    {
        // As the Functions host does, the worker's answer is passed on whatever the invocation's end. The sample app does
        // not handle the exception, so its worker answers an empty 200: what its callers would get in Azure too, and why
        // the Decent Cloud app answers a failure itself (a 500 problem, HttpFunctionMiddleware).
        await using var app = await SampleHost.StartAsync(storage.ConnectionString, output: output);
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/greet/boom");
        request.Headers.Add("traceparent", CallerTraceParent);

        using var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        // The host says what the caller got, under the caller's trace id, once the invocation has ended (the worker's log
        // lines of the invocation come before its end, on the same stream).
        await Eventually.HoldsAsync(() => app.Logs.Entries.Any(e => e.EventId.Id == 1213 && e.TraceId == CallerTraceId && e.Message.Contains("answer, 200", StringComparison.Ordinal)), "the host logged the failure and the answer passed on");
        var logged = Assert.Single(app.Logs.Entries, e => e.Exception?.ToString().Contains("Greet was asked to fail", StringComparison.Ordinal) == true);
        Assert.Equal(CallerTraceId, logged.TraceId);
        Assert.Contains("Greet.Run", logged.Exception!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_route_is_a_404_problem_and_a_wrong_method_a_405()
    {
        await using var app = await SampleHost.StartAsync(storage.ConnectionString, output: output);

        using var unknown = await app.Client.GetAsync("api/no-such-function");
        using var wrongMethod = await app.Client.DeleteAsync("api/greet/bob");

        await ApiAssert.ProblemAsync(unknown, HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
    }

    [Fact]
    public async Task Disabled_http_function_has_no_route()
    {
        await using var app = await SampleHost.StartAsync(
            storage.ConnectionString,
            settings: new Dictionary<string, string?> { ["AzureWebJobs.Greet.Disabled"] = "true" },
            output: output);

        using var response = await app.Client.GetAsync("api/greet/bob");

        await ApiAssert.ProblemAsync(response, HttpStatusCode.NotFound);
        Assert.DoesNotContain(app.Host.Triggers, t => t.StartsWith("Greet", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Host_does_not_start_without_a_master_key_when_a_function_needs_keys_and_leaves_no_worker_behind()
    {
        var logs = new CapturedLogs();

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => SampleHost.StartAsync(
            storage.ConnectionString,
            settings: new Dictionary<string, string?> { ["FUNCTIONS_MASTER_KEY"] = "" },
            output: output,
            logs: logs));

        Assert.Contains("FUNCTIONS_MASTER_KEY", refused.Message, StringComparison.Ordinal);
        Assert.Contains("AdminReport", refused.Message, StringComparison.Ordinal);
        var started = Assert.Single(logs.Entries, e => e.EventId.Id == 1201);
        var worker = int.Parse(WorkerProcessId().Match(started.Message).Groups["id"].Value, CultureInfo.InvariantCulture);
        await Eventually.HoldsAsync(() => !Directory.Exists($"/proc/{worker}"), "the worker it started has exited");
    }

    private static HttpRequestMessage Post(string path, string body, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body) };
        request.Headers.Add("x-functions-key", key);
        return request;
    }

    [GeneratedRegex(@"worker process (?<id>\d+)")]
    private static partial Regex WorkerProcessId();

    private static HttpRequestMessage Get(string path, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("x-functions-key", key);
        return request;
    }
}
