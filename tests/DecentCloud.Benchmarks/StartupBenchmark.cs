using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DecentCloud.Testing;

namespace DecentCloud.Benchmarks;

/// <param name="HealthyMs">Process.Start until the first 200.</param>
/// <param name="AnsweringMs">Process.Start until the start of the first request that got any answer.</param>
/// <param name="Milestones">For the local host: when its log says it reached each step of its start.</param>
internal sealed record StartTiming(double HealthyMs, double AnsweringMs, HostMilestones? Milestones = null)
{
    public double FirstRequestMs => HealthyMs - AnsweringMs;
}

/// <summary>
/// Milliseconds after Process.Start at which the local host's log lines (their own timestamps, to the millisecond) say it
/// started the worker process (event 1201), had the worker initialized (1207), had its functions loaded (1208) and
/// listened for HTTP (1220); NaN for a line not seen.
/// </summary>
internal sealed record HostMilestones(double WorkerStarted, double WorkerInitialized, double FunctionsLoaded, double Listening);

/// <summary>Reads the milestones out of the host's console lines (<c>HH:mm:ss.fff level: Category[EventId] …</c>, local time).</summary>
internal sealed class MilestoneReader(DateTime startedAt)
{
    private readonly Dictionary<int, double> seen = [];

    public void Note(string line)
    {
        if (line.Length < 13 || !TimeOnly.TryParseExact(line.AsSpan(0, 12), "HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var time))
        {
            return;
        }

        foreach (var id in new[] { 1201, 1207, 1208, 1220 })
        {
            if (line.Contains($"[{id}]", StringComparison.Ordinal))
            {
                var at = startedAt.Date + time.ToTimeSpan();
                if (at < startedAt - TimeSpan.FromHours(12))
                {
                    at += TimeSpan.FromDays(1);
                }

                lock (seen)
                {
                    seen.TryAdd(id, (at - startedAt).TotalMilliseconds);
                }
            }
        }
    }

    public HostMilestones Read()
    {
        lock (seen)
        {
            return new HostMilestones(At(1201), At(1207), At(1208), At(1220));
        }

        double At(int id) => seen.TryGetValue(id, out var ms) ? ms : double.NaN;
    }
}

internal sealed record StartupPlan(int WarmUps, int Runs)
{
    public static StartupPlan Full { get; } = new(1, 10);

    public static StartupPlan Quick { get; } = new(1, 3);
}

/// <summary>
/// Process start until GET /api/health answers 200, for the built function app run by the local Functions host
/// (<c>dotnet DecentCloud.FunctionsHost.dll &lt;app folder&gt;</c>, which starts the app's worker) and for a bare ASP.NET
/// Core app started the same way (<c>dotnet BareApp.dll</c>), alternating between the two.
/// </summary>
internal static class StartupBenchmark
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(30);

    /// <summary>Settings a developer's shell may carry that would move the apps off the port the benchmark polls.</summary>
    private static readonly string[] InheritedSettingsToDrop =
    [
        "ASPNETCORE_URLS", "DOTNET_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS", "DOTNET_HTTP_PORTS", "DOTNET_HTTPS_PORTS",
        "AzureWebJobsScriptRoot", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT", "FUNCTIONS_HTTP_ADDRESS",
    ];

    public static async Task<StartupResult> RunAsync(BuildOutputs outputs, StartupPlan plan, CancellationToken cancellationToken)
    {
        // The host reads local.settings.json from the app's folder and hands its values to the worker over the environment
        // the benchmark sets; a developer's copy there would point the app at other storage. The build copies the
        // repository's local.settings.json there (the app's project links it), so that copy is removed; the developer's
        // own file, at the repository's root, stays. Any other file there is the developer's to remove.
        var localSettings = Path.Combine(outputs.FunctionApp, "local.settings.json");
        var developers = Path.Combine(RepositoryRoot.Path, "local.settings.json");
        if (File.Exists(localSettings) && File.Exists(developers) && File.ReadAllBytes(localSettings).AsSpan().SequenceEqual(File.ReadAllBytes(developers)))
        {
            File.Delete(localSettings);
            Progress.Line($"start to healthy: removed the build's copy of local.settings.json from {outputs.FunctionApp} (the next build copies it again)");
        }

        if (File.Exists(localSettings))
        {
            throw new BenchmarkException($"{localSettings} is there; the start-up benchmark gives the app its settings itself. Remove it (it is a local copy, never committed) and run again.");
        }

        Progress.Line("start to healthy: starting a private Azurite for the function app's storage");
        await using var azurite = await Azurite.StartAsync(cancellationToken);
        var workingDirectory = Path.GetTempPath();

        var functionApp = new ChildApp("function app", IsLocalHost: true, port =>
        {
            var start = DotnetStart(outputs.FunctionsHostDll, workingDirectory);
            start.ArgumentList.Add(outputs.FunctionApp);
            foreach (var (name, value) in AppSettings.For(azurite.ConnectionString, port))
            {
                if (value is not null)
                {
                    start.Environment[name] = value;
                }
            }

            return start;
        });
        var bareApp = new ChildApp("bare app", IsLocalHost: false, port =>
        {
            var start = DotnetStart(outputs.BareAppDll, workingDirectory);
            start.ArgumentList.Add("--urls");
            start.ArgumentList.Add($"http://127.0.0.1:{port}");
            return start;
        });

        Progress.Line($"start to healthy: {outputs.FunctionsHostDll} {outputs.FunctionApp}");
        Progress.Line($"start to healthy: {outputs.BareAppDll}");
        var loadBefore = LoadAverage.Read();
        var warmUpFunction = new List<StartTiming>();
        var warmUpBare = new List<StartTiming>();
        for (var i = 1; i <= plan.WarmUps; i++)
        {
            warmUpFunction.Add(await MeasureAsync(functionApp, $"warm-up {i}/{plan.WarmUps}", cancellationToken));
            warmUpBare.Add(await MeasureAsync(bareApp, $"warm-up {i}/{plan.WarmUps}", cancellationToken));
        }

        var functionRuns = new List<StartTiming>();
        var bareRuns = new List<StartTiming>();
        for (var run = 1; run <= plan.Runs; run++)
        {
            // ABBA order, so neither app always runs right after the other one's exit.
            var functionFirst = run % 2 == 1;
            var label = $"run {run}/{plan.Runs}";
            if (functionFirst)
            {
                functionRuns.Add(await MeasureAsync(functionApp, label, cancellationToken));
                bareRuns.Add(await MeasureAsync(bareApp, label, cancellationToken));
            }
            else
            {
                bareRuns.Add(await MeasureAsync(bareApp, label, cancellationToken));
                functionRuns.Add(await MeasureAsync(functionApp, label, cancellationToken));
            }
        }

        return new StartupResult(functionRuns, bareRuns, warmUpFunction, warmUpBare, loadBefore, LoadAverage.Read());
    }

    /// <summary>
    /// Milliseconds from Process.Start until the first 200 from /api/health, and until the start of the
    /// first request that got any answer: the app was listening by then (within one poll), and the rest is
    /// that first request (JIT, and for the function app its storage probes).
    /// </summary>
    private static async Task<StartTiming> MeasureAsync(ChildApp app, string label, CancellationToken cancellationToken)
    {
        var port = FreePort();
        var start = app.StartInfo(port);
        var url = new Uri($"http://127.0.0.1:{port}/api/health");

        // A new client per start: no pooled connection to a previous process can answer for this one.
        using var handler = new SocketsHttpHandler { ConnectTimeout = RequestTimeout, UseProxy = false };
        using var http = new HttpClient(handler) { Timeout = RequestTimeout };
        var output = new OutputTail();
        var attempts = 0;
        var lastAnswer = "no answer";
        TimeSpan? answering = null;

        var milestones = new MilestoneReader(DateTime.Now);
        void Read(string? line)
        {
            output.Add(line);
            if (line is not null)
            {
                milestones.Note(line);
            }
        }

        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new BenchmarkException($"Could not start {app.Name}.");
        try
        {
            process.OutputDataReceived += (_, e) => Read(e.Data);
            process.ErrorDataReceived += (_, e) => Read(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            while (true)
            {
                attempts++;
                var attemptStarted = stopwatch.Elapsed;
                try
                {
                    using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                    answering ??= attemptStarted;
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        stopwatch.Stop();
                        break;
                    }

                    lastAnswer = $"HTTP {(int)response.StatusCode}";
                }
                catch (HttpRequestException ex)
                {
                    lastAnswer = ex.Message;
                }
                catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    answering ??= attemptStarted;
                    lastAnswer = $"no answer within {RequestTimeout.TotalSeconds:F0} s";
                }

                if (process.HasExited)
                {
                    throw new BenchmarkException($"The {app.Name} exited with code {process.ExitCode} before /api/health answered 200. Its output:\n{output}");
                }

                if (stopwatch.Elapsed > StartDeadline)
                {
                    throw new BenchmarkException($"The {app.Name} did not answer 200 on {url} within {StartDeadline.TotalSeconds:F0} s (last: {lastAnswer}). Its output:\n{output}");
                }

                await Task.Delay(PollInterval, cancellationToken);
            }

            // The host's console logger writes from a queue of its own: its last lines may still be on their way.
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
        finally
        {
            await StopAsync(process);
        }

        var timing = new StartTiming(stopwatch.Elapsed.TotalMilliseconds, (answering ?? stopwatch.Elapsed).TotalMilliseconds, app.IsLocalHost ? milestones.Read() : null);
        var steps = timing.Milestones is { } m
            ? $"; worker started {m.WorkerStarted:F0}, initialized {m.WorkerInitialized:F0}, functions loaded {m.FunctionsLoaded:F0}, host listening {m.Listening:F0} ms"
            : "";
        Progress.Line($"start to healthy: {label} {app.Name,-12} {timing.HealthyMs,5:F0} ms " +
                      $"(answering after {timing.AnsweringMs:F0} ms, first request {timing.FirstRequestMs:F0} ms; {attempts} polls{steps})");
        return timing;
    }

    private static ProcessStartInfo DotnetStart(string dll, string workingDirectory)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var name in InheritedSettingsToDrop)
        {
            start.Environment.Remove(name);
        }

        return start;
    }

    /// <summary>The dotnet muxer that built and runs this benchmark, else the one on PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task StopAsync(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It has exited already.
        }

        await process.WaitForExitAsync(CancellationToken.None);
    }

    /// <param name="IsLocalHost">The local Functions host, whose log lines give its start's milestones.</param>
    private sealed record ChildApp(string Name, bool IsLocalHost, Func<int, ProcessStartInfo> StartInfo);

    /// <summary>The last lines a child process wrote, to explain a start that failed.</summary>
    private sealed class OutputTail
    {
        private const int Keep = 40;
        private readonly Queue<string> lines = new();

        public void Add(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (lines)
            {
                lines.Enqueue(line);
                if (lines.Count > Keep)
                {
                    lines.Dequeue();
                }
            }
        }

        public override string ToString()
        {
            lock (lines)
            {
                return string.Join('\n', lines);
            }
        }
    }
}
