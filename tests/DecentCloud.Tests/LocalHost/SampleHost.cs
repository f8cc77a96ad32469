using System.Reflection;
using Azure.Storage.Queues;
using DecentCloud.FunctionsHost;
using DecentCloud.Tests.Support;
using Xunit.Abstractions;

namespace DecentCloud.Tests.LocalHost;

/// <summary>The host id and queue names one test gives the sample app, so tests that share an Azurite keep apart.</summary>
public sealed record SampleNames(string HostId, string Work, string Done, string Ticks, string Describe)
{
    public string Poison => Work + "-poison";

    public string Slow => "slow-" + HostId[1..];

    public static SampleNames Unique()
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        return new SampleNames($"h{id}", $"work-{id}", $"done-{id}", $"ticks-{id}", $"describe-{id}");
    }
}

/// <summary>
/// The local Functions host (infra/local/FunctionsHost) running the built sample app (tests/FunctionsHost.SampleApp) in
/// its own worker process, against a test's storage, with the host's and the worker's log lines captured.
/// </summary>
public sealed class SampleHost : IAsyncDisposable
{
    /// <summary>A yearly schedule: the Tick function stays quiet unless a test gives it another.</summary>
    public const string QuietSchedule = "0 0 0 1 1 *";

    private readonly ITestOutputHelper? output;

    private SampleHost(LocalFunctionsHost host, CapturedLogs logs, string storage, SampleNames names, ITestOutputHelper? output)
    {
        this.output = output;
        Host = host;
        Logs = logs;
        Names = names;
        Client = new HttpClient { BaseAddress = host.BaseAddress };
        Queues = new QueueServiceClient(storage, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
    }

    /// <summary>The sample app's build output, which the test project builds first.</summary>
    public static string AppDirectory { get; } =
        typeof(SampleHost).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "FunctionsHostSampleApp").Value!;

    public LocalFunctionsHost Host { get; }

    public CapturedLogs Logs { get; }

    public SampleNames Names { get; }

    /// <summary>Talks to the host's HTTP triggers; paths start with api/.</summary>
    public HttpClient Client { get; }

    /// <summary>The storage account's queues, with the sample's message encoding (base64).</summary>
    public QueueServiceClient Queues { get; }

    /// <param name="output">Gets every log line of the host and the worker when the host stops, for a test that fails.</param>
    /// <param name="logs">Where the log lines go, for a test that expects the start to fail; a new collection when not given.</param>
    public static async Task<SampleHost> StartAsync(
        string storage,
        SampleNames? names = null,
        IDictionary<string, string?>? settings = null,
        ITestOutputHelper? output = null,
        CapturedLogs? logs = null)
    {
        names ??= SampleNames.Unique();
        logs ??= new CapturedLogs();
        var host = await LocalFunctionsHost.StartAsync(new LocalFunctionsHostOptions
        {
            AppDirectory = AppDirectory,
            Settings = Settings(storage, names, settings),
            ConfigureLogging = logging =>
            {
                logging.ClearProviders();
                logging.SetMinimumLevel(LogLevel.Debug);
                logging.AddProvider(logs!);
            },
        });
        return new SampleHost(host, logs, storage, names, output);
    }

    /// <summary>The settings a test gives the sample app: its storage, a free port, test keys and its own names; <paramref name="extra"/> wins.</summary>
    public static Dictionary<string, string?> Settings(string storage, SampleNames names, IDictionary<string, string?>? extra = null)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["AzureWebJobsStorage"] = storage,
            ["FUNCTIONS_HTTP_PORT"] = "0",
            ["FUNCTIONS_HOST_ID"] = names.HostId,
            ["FUNCTIONS_MASTER_KEY"] = TestKeys.Master,
            ["FUNCTIONS_HOST_KEYS__default"] = TestKeys.Host,
            ["SAMPLE_WORK_QUEUE"] = names.Work,
            ["SAMPLE_DONE_QUEUE"] = names.Done,
            ["SAMPLE_TICKS_QUEUE"] = names.Ticks,
            ["SAMPLE_DESCRIBE_QUEUE"] = names.Describe,
            ["SAMPLE_SLOW_QUEUE"] = names.Slow,
            ["SAMPLE_TICK_SCHEDULE"] = QuietSchedule,
            ["AzureWebJobs.StartupTick.Disabled"] = "true",
            ["SAMPLE_TASK_HUB"] = "s" + names.HostId[1..],
            ["SAMPLE_NOOP_QUEUE"] = "noop-" + names.HostId[1..],
        };
        foreach (var (name, value) in extra ?? new Dictionary<string, string?>())
        {
            values[name] = value;
        }

        return values;
    }

    public QueueClient Queue(string name) => Queues.GetQueueClient(name);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Host.DisposeAsync();
        foreach (var entry in output is null ? [] : Logs.Entries)
        {
            output!.WriteLine($"{entry.At:HH:mm:ss.fff} {entry.Level} {entry.Category}[{entry.EventId.Id}] {entry.TraceId} {entry.Message} {entry.Exception}");
        }
    }
}
