using DecentCloud.FunctionsHost;
using Microsoft.Extensions.Logging;

namespace DecentCloud.Benchmarks;

/// <summary>
/// A built isolated-worker app as it runs locally: the local Functions host (infra/local/FunctionsHost) in the benchmark's
/// process, the app's worker in its own, against the benchmark's storage, with the benchmark's settings and quiet logs.
/// </summary>
internal sealed class HostedApp : IAsyncDisposable
{
    private HostedApp(LocalFunctionsHost host, HostLogTap log)
    {
        Host = host;
        Log = log;
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
            return new HostedApp(host, tap);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or TimeoutException)
        {
            throw new BenchmarkException($"The local Functions host could not start {appDirectory}.", ex);
        }
    }

    /// <summary>This process's CPU (the host's and the load's) and the worker's.</summary>
    public CpuSample Cpu() => CpuSample.With(Log.WorkerProcessId);

    public ValueTask DisposeAsync() => Host.DisposeAsync();
}
