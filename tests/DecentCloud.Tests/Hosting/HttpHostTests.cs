using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using DecentCloud.Functions.Platform;
using DecentCloud.Functions.Platform.Http;
using DecentCloud.Shared;
using DecentCloud.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Tests.Hosting;

public sealed record Greeting(string Text);

/// <summary>A function-level test function that echoes its route value.</summary>
public sealed class Greet
{
    public Ok<Greeting> Run(string name) => TypedResults.Ok(new Greeting($"hello {name}"));
}

/// <summary>A second function-level function, to show one function's key does not open another.</summary>
public sealed class Wave
{
    public Ok<Greeting> Run() => TypedResults.Ok(new Greeting("wave"));
}

/// <summary>An anonymous test function that stores a row whose PartitionKey is its route value.</summary>
public sealed class StoreRow(TableServiceClient tables)
{
    public const string TableName = "RouteValueRows";

    public async Task<Ok<Greeting>> Run(string id, CancellationToken cancellationToken)
    {
        var table = tables.GetTableClient(TableName);
        await table.CreateIfNotExistsAsync(cancellationToken);
        await table.AddEntityAsync(new TableEntity(id, "row"), cancellationToken);
        return TypedResults.Ok(new Greeting(id));
    }
}

public sealed class Explodes
{
    public IResult Run() => throw new InvalidOperationException("secret-internal-detail in the failure");
}

public sealed class HttpHostTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>, IAsyncLifetime
{
    private const string GreetKey = "greet-only-key-0123456789abcdef0123456789";
    private TestFunctionApp app = null!;

    public async Task InitializeAsync() =>
        app = await TestFunctionApp.StartAsync(
            storage.ConnectionString,
            configure: builder => builder.Functions
                .Http<Greet>("GET", "v1/greet/{name}", AuthorizationLevel.Function)
                .Http<Wave>("GET", "v1/wave", AuthorizationLevel.Function)
                .Http<Explodes>("POST", "v1/explode", AuthorizationLevel.Anonymous)
                .Http<StoreRow>("PUT", "v1/rows/{id}", AuthorizationLevel.Anonymous),
            settings: new Dictionary<string, string?> { ["FUNCTIONS_FUNCTION_KEYS:Greet:ci"] = GreetKey });

    public async Task DisposeAsync() => await app.DisposeAsync();

    private static HttpRequestMessage Get(string path, string? headerKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (headerKey is not null)
        {
            request.Headers.Add("x-functions-key", headerKey);
        }

        return request;
    }

    [Fact]
    public async Task Health_answers_200_with_reachable_storage_and_the_version()
    {
        var response = await app.Client.GetAsync("api/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("healthy", body.GetProperty("status").GetString());
        Assert.Equal(BuildInfo.Version, body.GetProperty("version").GetString());
        Assert.True(body.GetProperty("storage").GetProperty("reachable").GetBoolean());
        await Eventually.HoldsAsync(() => app.Logs.Entries.Any(e => e.EventId.Id == 4002), "the start-up storage check logged storage as reachable");
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("wrong-key-0123456789abcdef0123456789abcdef", HttpStatusCode.Unauthorized)]
    [InlineData(TestKeys.Host, HttpStatusCode.OK)]
    [InlineData(GreetKey, HttpStatusCode.OK)]
    [InlineData(TestKeys.Master, HttpStatusCode.OK)]
    public async Task A_function_level_function_takes_a_function_key_a_host_key_or_the_master_key_in_the_header(string? key, HttpStatusCode expected)
    {
        var response = await app.Client.SendAsync(Get("api/v1/greet/ada", key));

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.OK)
        {
            Assert.Equal("hello ada", (await response.Content.ReadFromJsonAsync<Greeting>())!.Text);
        }
    }

    [Fact]
    public async Task A_key_in_the_code_query_parameter_is_accepted_too()
    {
        var response = await app.Client.GetAsync($"api/v1/greet/ada?code={GreetKey}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task One_functions_key_does_not_open_another_function()
    {
        var response = await app.Client.SendAsync(Get("api/v1/wave", GreetKey));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData(TestKeys.Host, HttpStatusCode.Unauthorized)]
    [InlineData(GreetKey, HttpStatusCode.Unauthorized)]
    [InlineData(TestKeys.Master, HttpStatusCode.OK)]
    public async Task An_admin_function_takes_only_the_master_key(string? key, HttpStatusCode expected)
    {
        var response = await app.Client.SendAsync(Get("api/v1/admin/queues", key));

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task A_refused_key_is_answered_with_problem_details_and_a_trace_id()
    {
        var response = await app.Client.SendAsync(Get("api/v1/admin/queues", TestKeys.Host));

        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(401, problem.GetProperty("status").GetInt32());
        Assert.Contains("master key", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("traceId").GetString()));
        Assert.DoesNotContain(TestKeys.Host, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unhandled_error_is_logged_once_whole_and_answered_with_problem_details_without_the_stack_trace()
    {
        var response = await app.Client.PostAsync("api/v1/explode", null);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        var problem = JsonSerializer.Deserialize<JsonElement>(text);
        var traceId = problem.GetProperty("traceId").GetString();
        Assert.False(string.IsNullOrEmpty(traceId));
        Assert.DoesNotContain("secret-internal-detail", text, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);

        var logged = Assert.Single(app.Logs.Entries, e => e.Exception is InvalidOperationException);
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.Matches("^[0-9a-f]{32}$", traceId);
        Assert.Equal(traceId, logged.TraceId);
        Assert.Equal("secret-internal-detail in the failure", logged.Exception!.Message);
        Assert.NotNull(logged.Exception.StackTrace);
    }

    /// <summary>Route values as they go on the wire, each one a storage key cannot be.</summary>
    public static TheoryData<string, string> RouteValuesNoKeyCanBe() => new()
    {
        { "257 characters", new string('a', 257) },
        { "300 euro signs", string.Concat(Enumerable.Repeat("%E2%82%AC", 300)) },
        { "a backslash", "a%5Cb" },
        { "a hash", "a%23b" },
        { "a question mark", "a%3Fb" },
        { "U+0001", "a%01b" },
        { "U+001F", "a%1Fb" },
        { "U+007F", "a%7Fb" },
        { "U+0085", "a%C2%85b" },
        { "U+009F", "a%C2%9Fb" },
    };

    [Theory]
    [MemberData(nameof(RouteValuesNoKeyCanBe))]
    public async Task A_route_value_no_storage_key_can_be_is_refused_400_before_the_function_runs(string what, string value)
    {
        var rows = new TableClient(storage.ConnectionString, StoreRow.TableName);
        await rows.CreateIfNotExistsAsync();
        var before = await rows.QueryAsync<TableEntity>().CountAsync();

        var response = await app.Client.PutAsync($"api/v1/rows/{value}", null);

        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("id", problem.GetProperty("parameter").GetString());
        Assert.Equal(before, await rows.QueryAsync<TableEntity>().CountAsync());
        var logged = Assert.Single(app.Logs.Entries, e => e.EventId.Id == 1100);
        Assert.True(logged.Level == LogLevel.Warning && logged.Message.Contains("StoreRow", StringComparison.Ordinal), what);
    }

    [Fact]
    public async Task A_route_value_of_256_characters_with_an_encoded_slash_reaches_the_function()
    {
        // The server leaves %2F encoded in the path, so the function sees the three characters, which a key may hold.
        var value = new string('a', 251) + "%2Fb€";

        var response = await app.Client.PutAsync($"api/v1/rows/{new string('a', 251)}%2Fb%E2%82%AC", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(value, (await response.Content.ReadFromJsonAsync<Greeting>())!.Text);
        var row = await new TableClient(storage.ConnectionString, StoreRow.TableName).GetEntityAsync<TableEntity>(value, "row");
        Assert.Equal(256, row.Value.PartitionKey.Length);
        Assert.DoesNotContain(app.Logs.Entries, e => e.EventId.Id == 1100);
    }

    [Fact]
    public async Task A_route_value_no_key_can_be_is_refused_400_even_on_an_admin_function_before_its_key_is_asked_for()
    {
        var response = await app.Client.GetAsync("api/v1/admin/queues/a%23b/poison");

        Assert.Equal("queue", (await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest)).GetProperty("parameter").GetString());
    }

    /// <summary>Functions that read their body by hand rather than through binding: the webhooks, and the signature check.</summary>
    [Theory]
    [InlineData("api/v1/webhooks/stripe")]
    [InlineData("api/v1/webhooks/chatwoot")]
    [InlineData("api/v1/providers")]
    public async Task A_body_the_server_cannot_read_is_a_400_problem_and_not_a_500(string path)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(app.Client.BaseAddress!.Host, app.Client.BaseAddress.Port);
        var stream = tcp.GetStream();
        // A chunk size that is not hex: the server refuses the body while the function reads it.
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            $"POST /{path} HTTP/1.1\r\nHost: {app.Client.BaseAddress.Authority}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{{\"a\":\r\nzz\r\n"));

        using var reader = new StreamReader(stream, System.Text.Encoding.ASCII);
        var head = new List<string>();
        for (var line = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)); !string.IsNullOrEmpty(line); line = await reader.ReadLineAsync())
        {
            head.Add(line);
        }

        Assert.Equal("HTTP/1.1 400 Bad Request", head[0]);
        Assert.Contains("Content-Type: application/problem+json", head);
        Assert.Single(app.Logs.Entries, e => e.EventId.Id == 1103 && e.Level == LogLevel.Warning && e.Exception is BadHttpRequestException);
        Assert.DoesNotContain(app.Logs.Entries, e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task An_unknown_route_is_a_404_problem()
    {
        var response = await app.Client.GetAsync("api/v1/nothing-here");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("AzureWebJobs.Wave.Disabled")]
    [InlineData("AzureWebJobs:Wave:Disabled")]
    public async Task A_function_disabled_by_its_setting_has_no_route_and_the_others_still_answer(string setting)
    {
        await using var disabled = await TestFunctionApp.StartAsync(
            storage.ConnectionString,
            configure: builder => builder.Functions
                .Http<Greet>("GET", "v1/greet/{name}", AuthorizationLevel.Anonymous)
                .Http<Wave>("GET", "v1/wave", AuthorizationLevel.Anonymous),
            settings: new Dictionary<string, string?> { [setting] = "true" });

        Assert.Equal(HttpStatusCode.NotFound, (await disabled.Client.GetAsync("api/v1/wave")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await disabled.Client.GetAsync("api/v1/greet/ada")).StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_describes_every_http_function_with_its_authorization()
    {
        var document = await app.Client.GetFromJsonAsync<JsonElement>("api/openapi.json");
        var catalog = app.Services.GetRequiredService<FunctionCatalog>();

        Assert.NotEmpty(catalog.HttpFunctions);
        var paths = document.GetProperty("paths");
        foreach (var function in catalog.HttpFunctions)
        {
            Assert.True(paths.TryGetProperty($"/api/{function.Route}", out var path), $"{function.Name} (/api/{function.Route}) is missing from the OpenAPI document");
            Assert.True(path.TryGetProperty(function.Method.ToLowerInvariant(), out var operation), $"{function.Name} has no {function.Method} operation in the OpenAPI document");
            Assert.Equal(function.Name, operation.GetProperty("operationId").GetString());
            // Keyed operations carry the functionKey scheme; signed ones (anonymous level) carry the signature scheme instead.
            var schemes = operation.TryGetProperty("security", out var security)
                ? security.EnumerateArray().SelectMany(requirement => requirement.EnumerateObject()).Select(scheme => scheme.Name).ToList()
                : [];
            Assert.Equal(function.Level != AuthorizationLevel.Anonymous, schemes.Contains("functionKey"));
            if (function.Route.Contains('{', StringComparison.Ordinal))
            {
                Assert.True(operation.GetProperty("responses").TryGetProperty("400", out _), $"{function.Name} does not say it answers 400 to a path value no key can be");
            }
        }

        Assert.Equal("apiKey", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("functionKey").GetProperty("type").GetString());
    }
}

public sealed class ApiGuideTests
{
    [Fact]
    public void The_api_guide_lists_every_http_function_of_the_app()
    {
        var guide = File.ReadAllText(Path.Combine(DecentCloud.Testing.RepositoryRoot.Path, "docs", "api.md"));
        var root = Directory.CreateTempSubdirectory("dc-guide-");
        var app = TestFunctionApp.Build("UseDevelopmentStorage=true", TestFunctionApp.UniqueHostId(), null, null, TestFunctionApp.DefaultHostJson, root, new CapturedLogs());
        root.Delete(recursive: true);

        var functions = app.Services.GetRequiredService<FunctionCatalog>().HttpFunctions.ToList();
        Assert.NotEmpty(functions);
        foreach (var function in functions)
        {
            Assert.Contains($"`{function.Method} /api/{function.Route}`", guide, StringComparison.Ordinal);
        }
    }
}

public sealed class HealthWithoutStorageTests
{
    [Fact]
    public async Task Health_answers_503_when_storage_is_unreachable_and_the_app_with_its_listeners_keeps_running()
    {
        // A loopback port nothing listens on (free a moment ago): connections are refused at once, and
        // the app must start anyway and say storage is unreachable.
        var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var nowhere = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
            + $"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
        var work = new WorkLog();
        var ticks = new TimerLog();
        await using var app = await TestFunctionApp.StartAsync(nowhere, configure: builder =>
        {
            builder.Services.AddSingleton(work).AddSingleton(ticks);
            builder.Functions
                .Queue<RecordsWork, WorkItem>("unreachable-work")
                .Timer<RecordsTicks>("* * * * * *");
        });

        // The queue and timer listeners keep retrying storage; none of them may take the host down.
        await Eventually.HoldsAsync(() => app.Logs.Entries.Count(e => e.EventId.Id == 1010) >= 2, "both listeners reported storage as not ready");
        var response = await app.Client.GetAsync("api/health");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("unhealthy", body.GetProperty("status").GetString());
        Assert.False(body.GetProperty("storage").GetProperty("reachable").GetBoolean());
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 4001 && e.Exception is not null);
        Assert.False(app.App.Lifetime.ApplicationStopping.IsCancellationRequested);
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 4003);
        Assert.Empty(work.Runs);
        Assert.Empty(ticks.Runs);
    }
}
