using System.Reflection;
using System.Text.Json;
using DecentCloud.Functions;
using DecentCloud.Functions.Platform;
using DecentCloud.FunctionsHost;
using DecentCloud.Shared.Signing;
using Microsoft.DurableTask.Client;

namespace DecentCloud.Tests.Support;

/// <summary>
/// The real function app as it runs in Azure: its build output (functions/bin) run by the local Functions host
/// (infra/local/FunctionsHost) in its own isolated-worker process, against a test's storage, with test settings; the
/// host's and the worker's log lines captured. <see cref="Services"/> are the app's own services built in the test's
/// process over the same storage and settings, for reading and preparing what the app keeps.
/// </summary>
public sealed class TestFunctionApp : IAsyncDisposable
{
    /// <summary>host.json settings for tests: fast polling and few retries. Given to the host as overrides of the app's host.json.</summary>
    public const string DefaultHostJson = """
        {
          "version": "2.0",
          "extensions": {
            "queues": {
              "maxPollingInterval": "00:00:00.500",
              "visibilityTimeout": "00:00:00",
              "batchSize": 16,
              "newBatchThreshold": 8,
              "maxDequeueCount": 3
            }
          }
        }
        """;

    private readonly ServiceProvider services;
    private readonly Lazy<ServiceProvider> durable;
    private bool stopped;

    private TestFunctionApp(LocalFunctionsHost host, ServiceProvider services, CapturedLogs logs, HttpClient client)
    {
        Host = host;
        this.services = services;
        Logs = logs;
        Client = client;
        durable = new(() =>
        {
            var hub = host.TaskHub ?? throw new InvalidOperationException("The app has no durable functions, so its host runs no task hub.");
            var clientServices = new ServiceCollection().AddLogging();
            clientServices.AddDurableTaskClient(builder => builder.UseGrpc(hub.Channel));
            return clientServices.BuildServiceProvider();
        });
    }

    /// <summary>The app's build output, which the test project builds first.</summary>
    public static string AppDirectory { get; } =
        typeof(TestFunctionApp).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "FunctionApp").Value!;

    /// <summary>The app with the test functions of tests/DecentCloud.Functions.TestApp beside its own.</summary>
    public static string TestAppDirectory { get; } =
        typeof(TestFunctionApp).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "FunctionTestApp").Value!;

    public LocalFunctionsHost Host { get; }

    public CapturedLogs Logs { get; }

    /// <summary>Talks to the host's HTTP listener; base address is the app root (paths start with api/).</summary>
    public HttpClient Client { get; }

    /// <summary>The app's services (stores, queue writer, storage clients) over the app's storage and settings, in this process.</summary>
    public IServiceProvider Services => services;

    /// <summary>A durable client in the test on the app's task hub, through the host's sidecar (as the app's own durableClient binding).</summary>
    public DurableTaskClient Orchestrations => durable.Value.GetRequiredService<DurableTaskClient>();

    /// <summary>The settings every test app starts with; a test's own win.</summary>
    public static Dictionary<string, string?> Settings(string? storage, string hostId) => new(StringComparer.OrdinalIgnoreCase)
    {
        ["AzureWebJobsStorage"] = storage,
        ["FUNCTIONS_HTTP_PORT"] = "0",
        ["FUNCTIONS_HOST_ID"] = hostId,

        // A task hub of its own (host ids are letters and digits, as hub names must be): apps of other tests on the same
        // storage account never run this one's orchestrations. A second app given the same host id shares it.
        ["DurableTaskHubName"] = hostId,
        ["FUNCTIONS_MASTER_KEY"] = TestKeys.Master,
        ["FUNCTIONS_HOST_KEYS__default"] = TestKeys.Host,

        // Required by billing; outside services are unreachable unless a test points them at its stand-in.
        ["STRIPE_SECRET_KEY"] = "sk_test_tests_not_a_real_key",
        ["STRIPE_WEBHOOK_SECRET"] = TestKeys.StripeWebhookSecret,
        ["STRIPE_API_BASE"] = "http://127.0.0.1:9",
        ["STRIPE_MAX_NETWORK_RETRIES"] = "0",
        ["CHECKOUT_SUCCESS_URL"] = "https://app.decentcloud.example/contracts/{CONTRACT_ID}/paid",
        ["CHECKOUT_CANCEL_URL"] = "https://app.decentcloud.example/contracts/{CONTRACT_ID}",
        ["SENDGRID_API_KEY"] = "SG.tests-not-a-real-key",
        ["SENDGRID_API_HOST"] = "http://127.0.0.1:9",
        ["EMAIL_FROM"] = "billing@decentcloud.example",
        ["VIES_BASE_URL"] = "http://127.0.0.1:9/",

        // Test agents report instances on 127.0.0.1; the tests of the refusal turn this off.
        ["PROBE_ALLOW_PRIVATE_ADDRESSES"] = "true",

        // Would ask the unreachable default Stripe address for its events every five minutes; the tests about it run it by hand.
        ["AzureWebJobs.PollStripeEvents.Disabled"] = "true",
    };

    /// <param name="hostJson">host.json settings that override the app's own (as <c>AzureFunctionsJobHost__…</c> settings do in Azure).</param>
    public static async Task<TestFunctionApp> StartAsync(
        string? storage,
        string? hostId = null,
        IDictionary<string, string?>? settings = null,
        string hostJson = DefaultHostJson,
        CapturedLogs? logs = null,
        bool withTestFunctions = false)
    {
        logs ??= new CapturedLogs();
        var values = Settings(storage, hostId ?? UniqueHostId());
        foreach (var (name, value) in HostJsonSettings(hostJson))
        {
            values[name] = value;
        }

        if (withTestFunctions)
        {
            // The test app's queue function listens here unless a test names its own queues.
            values["TEST_WORK_QUEUE"] = UniqueQueueName("test-work");
            values["TEST_DONE_QUEUE"] = UniqueQueueName("test-done");
        }

        foreach (var (name, value) in settings ?? new Dictionary<string, string?>())
        {
            values[name] = value;
        }

        var host = await LocalFunctionsHost.StartAsync(new LocalFunctionsHostOptions
        {
            AppDirectory = withTestFunctions ? TestAppDirectory : AppDirectory,
            Settings = values,
            ReadLocalSettings = false,
            ConfigureLogging = logging =>
            {
                logging.ClearProviders();
                logging.SetMinimumLevel(LogLevel.Debug);
                logging.AddProvider(logs);
            },
        });
        return new TestFunctionApp(host, AppServices(values, logs), logs, new HttpClient { BaseAddress = host.BaseAddress });
    }

    /// <summary>The app's services as Program.cs registers them, over <paramref name="settings"/> and the app's host.json.</summary>
    /// <param name="logs">Where what the services log goes (with the host's and the worker's lines when it is the app's).</param>
    public static ServiceProvider AppServices(IDictionary<string, string?> settings, CapturedLogs? logs = null)
    {
        var configuration = new ConfigurationManager();
        configuration.AddAppSettings(AppDirectory);
        configuration.AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key.Replace("__", ":", StringComparison.Ordinal), s.Value)));
        var services = new ServiceCollection()
            .AddLogging(logging =>
            {
                logging.SetMinimumLevel(LogLevel.Debug);
                if (logs is not null)
                {
                    logging.AddProvider(logs);
                }
            })
            .AddSingleton<IConfiguration>(configuration)
            .AddAppServices();
        return services.BuildServiceProvider();
    }

    /// <summary>host.json's JSON as the <c>AzureFunctionsJobHost__…</c> settings that override it.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> HostJsonSettings(string hostJson)
    {
        using var document = JsonDocument.Parse(hostJson);
        var flat = new List<KeyValuePair<string, string?>>();
        Flatten(document.RootElement, "AzureFunctionsJobHost", flat);
        return flat;
    }

    private static void Flatten(JsonElement element, string prefix, List<KeyValuePair<string, string?>> into)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Flatten(property.Value, $"{prefix}__{property.Name}", into);
                }

                break;
            case JsonValueKind.String:
                into.Add(KeyValuePair.Create(prefix, element.GetString()));
                break;
            default:
                into.Add(KeyValuePair.Create<string, string?>(prefix, element.GetRawText()));
                break;
        }
    }

    /// <summary>A client whose requests are signed with <paramref name="key"/>, as Decent Cloud clients sign them.</summary>
    public HttpClient SignedBy(Ed25519phKey key) =>
        new(new SigningHandler(key, TimeProvider.System, new SocketsHttpHandler())) { BaseAddress = Client.BaseAddress };

    /// <summary>Runs a timer or queue function now, as an admin does with the Functions host's admin API; answers when it has started.</summary>
    public async Task RunAsync(string function, string input = "")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"admin/functions/{function}") { Content = System.Net.Http.Json.JsonContent.Create(new { input }) };
        request.Headers.Add("x-functions-key", TestKeys.Master);
        using var response = await Client.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
    }

    public static string UniqueHostId() => "t" + Guid.NewGuid().ToString("N")[..12];

    public static string UniqueQueueName(string purpose) => $"{purpose}-{Guid.NewGuid():N}"[..Math.Min(63, purpose.Length + 33)];

    /// <summary>Stops the host and its worker gracefully, as the platform does on scale-in or deployment.</summary>
    public async Task StopAsync()
    {
        if (!stopped)
        {
            stopped = true;
            await Host.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();

        // DC_TEST_LOG_DIR=/some/folder keeps every app's log lines (host, worker and test-side services) for a failing test.
        if (Environment.GetEnvironmentVariable("DC_TEST_LOG_DIR") is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
            await File.WriteAllLinesAsync(
                Path.Combine(folder, $"app-{DateTime.UtcNow:HHmmss.fff}-{Guid.NewGuid():N}.log"),
                Logs.Entries.Select(e => $"{e.At:HH:mm:ss.fff} {e.Level} {e.Category}[{e.EventId.Id}/{e.EventId.Name}] {e.TraceId} {e.Message} {e.Exception}"));
        }

        Client.Dispose();
        if (durable.IsValueCreated)
        {
            await durable.Value.DisposeAsync();
        }

        await services.DisposeAsync();
    }
}
