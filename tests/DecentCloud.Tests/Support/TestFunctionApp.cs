using FunctionApp = DecentCloud.Functions.Program;
using DecentCloud.Functions.Platform;
using DecentCloud.Shared.Signing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace DecentCloud.Tests.Support;

/// <summary>
/// The real function app (Program.Create, Kestrel on a free loopback port, real storage), started in
/// this process from a private script root, with test settings and any extra test functions.
/// </summary>
public sealed class TestFunctionApp : IAsyncDisposable
{
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

    private readonly DirectoryInfo root;
    private bool stopped;

    private TestFunctionApp(WebApplication app, DirectoryInfo root, CapturedLogs logs, HttpClient client)
    {
        App = app;
        this.root = root;
        Logs = logs;
        Client = client;
    }

    public WebApplication App { get; }

    public CapturedLogs Logs { get; }

    /// <summary>Talks to the app's real HTTP listener; base address is the app root (paths start with api/).</summary>
    public HttpClient Client { get; }

    public IServiceProvider Services => App.Services;

    public static WebApplication Build(
        string? storage,
        string hostId,
        Action<FunctionsApplicationBuilder>? configure,
        IDictionary<string, string?>? settings,
        string hostJson,
        DirectoryInfo root,
        CapturedLogs logs)
    {
        File.WriteAllText(Path.Combine(root.FullName, "host.json"), hostJson);
        var values = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = storage,
            ["FUNCTIONS_HTTP_PORT"] = "0",
            ["FUNCTIONS_HOST_ID"] = hostId,
            ["FUNCTIONS_MASTER_KEY"] = TestKeys.Master,
            ["FUNCTIONS_HOST_KEYS:default"] = TestKeys.Host,

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

            // Would ask the unreachable default Stripe address for its events every five minutes; the tests about it run it by hand.
            ["AzureWebJobs.PollStripeEvents.Disabled"] = "true",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        return FunctionApp.Create([], root.FullName, builder =>
        {
            builder.Configuration.AddInMemoryCollection(values);
            builder.Logging.ClearProviders();
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            builder.Logging.AddProvider(logs);
            configure?.Invoke(builder);
        });
    }

    public static async Task<TestFunctionApp> StartAsync(
        string? storage,
        string? hostId = null,
        Action<FunctionsApplicationBuilder>? configure = null,
        IDictionary<string, string?>? settings = null,
        string hostJson = DefaultHostJson)
    {
        var root = Directory.CreateTempSubdirectory("dc-app-");
        var logs = new CapturedLogs();
        var app = Build(storage, hostId ?? UniqueHostId(), configure, settings, hostJson, root, logs);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestFunctionApp(app, root, logs, new HttpClient { BaseAddress = new Uri(address + "/") });
    }

    /// <summary>A client whose requests are signed with <paramref name="key"/>, as Decent Cloud clients sign them.</summary>
    public HttpClient SignedBy(Ed25519phKey key) =>
        new(new SigningHandler(key, TimeProvider.System, new SocketsHttpHandler())) { BaseAddress = Client.BaseAddress };

    public static string UniqueHostId() => "t" + Guid.NewGuid().ToString("N")[..12];

    public static string UniqueQueueName(string purpose) => $"{purpose}-{Guid.NewGuid():N}"[..Math.Min(63, purpose.Length + 33)];

    /// <summary>Stops the host gracefully, as the platform does on scale-in or deployment.</summary>
    public async Task StopAsync()
    {
        if (!stopped)
        {
            stopped = true;
            await App.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await App.DisposeAsync();
        Client.Dispose();
        root.Delete(recursive: true);
    }
}
