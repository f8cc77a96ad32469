using System.Net;
using DecentCloud.Tests.Support;
using Xunit.Abstractions;

namespace DecentCloud.Tests.LocalHost;

/// <summary>
/// Function keys and disabled functions of the local Functions host, with a real isolated worker behind them: a
/// function's own key, keys of other functions, refusals as problem details.
/// </summary>
public sealed class HttpKeyTests(AzuriteFixture storage, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string EchoKey = "echo-only-key-0123456789abcdef0123456789";

    private Task<SampleHost> StartAsync(Dictionary<string, string?>? settings = null)
    {
        settings ??= [];
        settings["FUNCTIONS_FUNCTION_KEYS__Echo__ci"] = EchoKey;
        return SampleHost.StartAsync(storage.ConnectionString, settings: settings, output: output);
    }

    [Fact]
    public async Task Functions_own_key_opens_it_in_the_header_or_the_code_parameter_and_no_other_function()
    {
        await using var app = await StartAsync();

        using var inHeader = await app.Client.SendAsync(Request(HttpMethod.Post, "api/echo", EchoKey, "with its key in the header"));
        using var inQuery = await app.Client.PostAsync($"api/echo?code={EchoKey}", new StringContent("with its key in the query"));
        using var otherFunction = await app.Client.SendAsync(Request(HttpMethod.Get, "api/wave", EchoKey));
        using var otherInQuery = await app.Client.GetAsync($"api/wave?code={EchoKey}");
        using var otherWithHostKey = await app.Client.SendAsync(Request(HttpMethod.Get, "api/wave", TestKeys.Host));

        Assert.Equal(HttpStatusCode.OK, inHeader.StatusCode);
        Assert.Equal("with its key in the header", await inHeader.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, inQuery.StatusCode);
        Assert.Equal("with its key in the query", await inQuery.Content.ReadAsStringAsync());
        await ApiAssert.ProblemAsync(otherFunction, HttpStatusCode.Unauthorized);
        await ApiAssert.ProblemAsync(otherInQuery, HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, otherWithHostKey.StatusCode);
        Assert.Equal("wave", await otherWithHostKey.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Admin_function_refuses_a_function_key_with_a_problem_that_names_the_master_key_and_carries_a_trace_id()
    {
        await using var app = await StartAsync();

        using var response = await app.Client.SendAsync(Request(HttpMethod.Get, "api/v1/admin/report", EchoKey));

        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Contains("master key", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Matches("^[0-9a-f]{32}$", problem.GetProperty("traceId").GetString());
        Assert.DoesNotContain(EchoKey, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var refused = Assert.Single(app.Logs.Entries, e => e.EventId.Id == 1212);
        Assert.Equal(problem.GetProperty("traceId").GetString(), refused.TraceId);
        Assert.DoesNotContain(app.Logs.Entries, e => e.Message.Contains(EchoKey, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("AzureWebJobs.Wave.Disabled")]
    [InlineData("AzureWebJobs__Wave__Disabled")]
    public async Task Function_disabled_by_its_setting_has_no_route_and_the_others_still_answer(string setting)
    {
        await using var app = await StartAsync(new Dictionary<string, string?> { [setting] = "true" });

        using var disabled = await app.Client.SendAsync(Request(HttpMethod.Get, "api/wave", TestKeys.Host));
        using var echo = await app.Client.SendAsync(Request(HttpMethod.Post, "api/echo", TestKeys.Host, "still here"));
        using var greet = await app.Client.GetAsync("api/greet/ada");

        await ApiAssert.ProblemAsync(disabled, HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.OK, echo.StatusCode);
        Assert.Equal("still here", await echo.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, greet.StatusCode);
        Assert.DoesNotContain(app.Host.Triggers, t => t.StartsWith("Wave", StringComparison.Ordinal));
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string key, string? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body);
        }

        request.Headers.Add("x-functions-key", key);
        return request;
    }
}
