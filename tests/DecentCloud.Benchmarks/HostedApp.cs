using System.Diagnostics;
using Azure;
using Azure.Data.Tables;
using DecentCloud.FunctionsHost;
using Microsoft.Extensions.Logging;

namespace DecentCloud.Benchmarks;

/// <summary>
/// A built isolated-worker app as it runs locally: the local Functions host (infra/local/FunctionsHost) in the benchmark's
/// process, the app's worker in its own, against the benchmark's storage, with the benchmark's settings and quiet logs.
/// </summary>
internal sealed class HostedApp : IAsyncDisposable
{
    private static readonly TimeSpan ReleaseDeadline = TimeSpan.FromSeconds(30);

    private readonly string storage;

    private HostedApp(LocalFunctionsHost host, HostLogTap log, string storage)
    {
        Host = host;
        Log = log;
        this.storage = storage;
    }

    public LocalFunctionsHost Host { get; }

    public HostLogTap Log { get; }

    /// <summary>Where the HTTP triggers answer (paths start with api/).</summary>
    public Uri BaseAddress => Host.BaseAddress;

    /// <param name="settings">Win over the quiet log levels (names as in local.settings.json).</param>
    /// <param name="log">Reads the host's log; a new one when not given.</param>
    public static async Task<HostedApp> StartAsync(string appDirectory, IDictionary<string, string?> settings, HostLogTap? log, CancellationToken cancellationToken)
    {
        var tap = log ?? new HostLogTap();
        var values = AppSettings.QuietLogging(appDirectory);
        foreach (var (name, value) in settings)
        {
            values[name] = value;
        }

        try
        {
            var host = await LocalFunctionsHost.StartAsync(
                new LocalFunctionsHostOptions
                {
                    AppDirectory = appDirectory,
                    Settings = values,
                    ConfigureLogging = logging =>
                    {
                        logging.ClearProviders();
                        logging.AddProvider(tap);
                        HostLogTap.Filter(logging);
                    },
                },
                cancellationToken);
            return new HostedApp(host, tap, values.GetValueOrDefault("AzureWebJobsStorage") ?? "");
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or TimeoutException)
        {
            throw new BenchmarkException($"The local Functions host could not start {appDirectory}.", ex);
        }
    }

    /// <summary>This process's CPU (the host's and the load's) and the worker's.</summary>
    public CpuSample Cpu() => CpuSample.With(Log.WorkerProcessId);

    /// <summary>
    /// Stops the host and its worker, then, when the app has a task hub, waits until the hub has released its partitions.
    /// The host returns before its orchestration service has stopped (the DurableTask sidecar stops it from a callback
    /// nobody awaits); a storage emulator stopped before that leaves the service retrying in this process for many
    /// seconds, in the next run's time.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        var hub = Host.TaskHub?.TaskHubName;
        await Host.DisposeAsync();
        if (hub is not null)
        {
            await PartitionsReleasedAsync(hub);
        }
    }

    /// <summary>The Azure Storage provider's partition table (<c>{hub}Partitions</c>) names no owner any more.</summary>
    private async Task PartitionsReleasedAsync(string hub)
    {
        var partitions = new TableClient(storage, hub + "Partitions");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < ReleaseDeadline)
        {
            try
            {
                var owned = false;
                await foreach (var partition in partitions.QueryAsync<TableEntity>(select: ["CurrentOwner"]))
                {
                    owned |= !string.IsNullOrEmpty(partition.GetString("CurrentOwner"));
                }

                if (!owned)
                {
                    return;
                }
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }

        Progress.Line($"host: task hub {hub} still owns partitions {ReleaseDeadline.TotalSeconds:F0} s after the host stopped; going on");
    }
}
