using System.Text;

namespace DecentCloud.Benchmarks;

/// <summary>Start-to-healthy timings, in run order, and what they mean against the targets.</summary>
internal sealed record StartupResult(
    IReadOnlyList<StartTiming> FunctionApp,
    IReadOnlyList<StartTiming> BareApp,
    IReadOnlyList<StartTiming> WarmUpFunctionApp,
    IReadOnlyList<StartTiming> WarmUpBareApp,
    string LoadBefore,
    string LoadAfter)
{
    public const string SectionId = "startup";
    public const double TargetMedianMs = 1000;
    public const double TargetRatio = 2.5;

    public double FunctionMedian => Stats.Median(FunctionApp.Select(t => t.HealthyMs));

    public double BareMedian => Stats.Median(BareApp.Select(t => t.HealthyMs));

    public double Ratio => FunctionMedian / BareMedian;

    public bool MedianMet => FunctionMedian <= TargetMedianMs;

    public bool RatioMet => Ratio <= TargetRatio;

    public bool Passed => MedianMet && RatioMet;

    public void PrintSummary()
    {
        Progress.Line($"start to healthy: function app median {FunctionMedian:F0} ms, p90 {Stats.Percentile(FunctionApp.Select(t => t.HealthyMs), 90):F0} ms (target <= {TargetMedianMs:F0} ms): {Verdict(MedianMet)}");
        Progress.Line($"start to healthy: bare app     median {BareMedian:F0} ms, p90 {Stats.Percentile(BareApp.Select(t => t.HealthyMs), 90):F0} ms");
        Progress.Line($"start to healthy: ratio {Ratio:F2}x the bare app (target <= {TargetRatio:F1}x): {Verdict(RatioMet)}");
        Progress.Line($"start to healthy: 1-minute load average {LoadBefore} before, {LoadAfter} after (2 or more on 2 cores means other work shared the machine)");
    }

    public string ToMarkdown(Machine machine)
    {
        var md = new StringBuilder();
        md.AppendLine("## Start to healthy: function app (local Functions host and its worker) against a bare ASP.NET Core app");
        md.AppendLine();
        md.AppendLine($"{machine.Markdown} 1-minute load average {LoadBefore} before the runs, {LoadAfter} after.");
        md.AppendLine();
        md.AppendLine($"**{Verdict(Passed)}**: the function app is healthy {FunctionMedian:F0} ms (median) after the host's process starts, " +
                      $"{Ratio:F2}× the bare app's {BareMedian:F0} ms.");
        md.AppendLine();
        md.AppendLine($"Where the difference goes (medians): the function app starts answering {Median(FunctionApp, t => t.AnsweringMs) - Median(BareApp, t => t.AnsweringMs):F0} ms later " +
                      "than the bare app: the host reads host.json and the settings, starts the worker process (a second .NET runtime start, " +
                      "the app's own host building and its services), waits for it to connect over gRPC, loads its functions, and only then " +
                      "opens its HTTP port; its first /api/health takes " +
                      $"{Median(FunctionApp, t => t.FirstRequestMs) - Median(BareApp, t => t.FirstRequestMs):F0} ms longer " +
                      "(the host passes the request to the worker, whose handler calls Azurite's tables, blobs and queues; the Azure SDK, " +
                      "the worker's HTTP pipeline and the host's proxy run for the first time in their processes).");
        md.AppendLine();
        md.AppendLine("The function app's start step by step, from the local host's own log lines (their timestamps; medians over the runs, " +
                      "each step from the end of the one before):");
        md.AppendLine();
        md.AppendLine("| step | median |");
        md.AppendLine("|---|---:|");
        foreach (var (step, ms) in Steps())
        {
            md.AppendLine($"| {step} | {ms:F0} ms |");
        }

        md.AppendLine();
        md.AppendLine("| target | measured | verdict |");
        md.AppendLine("|---|---|---|");
        md.AppendLine($"| function app median ≤ {TargetMedianMs / 1000:F1} s | {FunctionMedian:F0} ms | {Verdict(MedianMet)} |");
        md.AppendLine($"| function app median ≤ {TargetRatio:F1}× bare app median | {Ratio:F2}× | {Verdict(RatioMet)} |");
        md.AppendLine();
        md.AppendLine("| app | median | p90 | min | max | median until answering | median first request | runs |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        md.AppendLine(SummaryRow("function app (`dotnet DecentCloud.FunctionsHost.dll functions/bin/Release/net10.0`)", FunctionApp));
        md.AppendLine(SummaryRow("bare app (`dotnet BareApp.dll`)", BareApp));
        md.AppendLine();
        md.AppendLine("Every run in milliseconds, in the order measured (odd runs start the function app first, even runs the bare app); " +
                      "in brackets, until answering + first request:");
        md.AppendLine();
        md.AppendLine("| run | function app | bare app |");
        md.AppendLine("|---:|---:|---:|");
        for (var i = 0; i < WarmUpFunctionApp.Count; i++)
        {
            md.AppendLine($"| warm-up (not counted) | {Cell(WarmUpFunctionApp[i])} | {Cell(WarmUpBareApp[i])} |");
        }

        for (var i = 0; i < FunctionApp.Count; i++)
        {
            md.AppendLine($"| {i + 1} | {Cell(FunctionApp[i])} | {Cell(BareApp[i])} |");
        }

        md.AppendLine();
        md.AppendLine("Method: everything is built Release (project references of the benchmark, which runs with `-c Release`). " +
                      "The function app is started as it runs locally: `dotnet DecentCloud.FunctionsHost.dll <the app's build output>`, the local " +
                      "Functions host (infra/local/FunctionsHost), which starts the app's isolated worker (`dotnet DecentCloud.Functions.dll` with the " +
                      "host's gRPC address) as the Azure Functions host does; the bare app as `dotnet BareApp.dll`; both from a temporary folder, " +
                      "on a free loopback port. The host gets its settings as environment variables and passes them on to the worker: " +
                      "`AzureWebJobsStorage` is a private in-memory Azurite started for the benchmark, `FUNCTIONS_HTTP_PORT` the free port, " +
                      "`FUNCTIONS_MASTER_KEY` a 40-character dummy; the other values of local.settings.sample.json are passed too, so a newly " +
                      "required setting cannot stop it (the build's copy of the repository's local.settings.json is removed from the build output first, and any other one there makes the benchmark refuse to run). Log levels " +
                      "are host.json's, as deployed; the host's console output is read and discarded. " +
                      "Its /api/health answers 200 only once tables, blobs and queues of that Azurite answer. " +
                      "The bare app (`tests/DecentCloud.Benchmarks.BareApp`) is `WebApplication.CreateSlimBuilder` (the builder the local host uses) " +
                      "with one `GET /api/health` returning 200, port given with `--urls`. " +
                      "A Stopwatch starts just before `Process.Start`; a fresh HttpClient polls `GET /api/health` every 10 ms " +
                      "(2 s request timeout) and the time of the first 200 is the figure, so it includes the runtimes' start, JIT, " +
                      "host building, Kestrel binding and the first request. \"Until answering\" is when the first poll that got any " +
                      "answer was sent (the app was listening by then, within one poll); \"first request\" is the rest, that request's own time. " +
                      "Each process is killed right after, with its worker. " +
                      $"One warm-up start of each app first (not counted), then {FunctionApp.Count} starts of each, alternating. " +
                      "p90 is the nearest-rank 90th percentile.");
        return md.ToString();
    }

    /// <summary>The medians of the host's steps, each from the previous milestone (runs without every milestone left out).</summary>
    private IEnumerable<(string Step, double Ms)> Steps()
    {
        var runs = FunctionApp.Where(t => t.Milestones is { } m && !double.IsNaN(m.WorkerStarted + m.WorkerInitialized + m.FunctionsLoaded + m.Listening)).ToList();
        if (runs.Count == 0)
        {
            yield break;
        }

        yield return ("the host's process starts (the .NET runtime, the host's settings and host.json, its gRPC endpoint) and starts the worker's process", Stats.Median(runs.Select(t => t.Milestones!.WorkerStarted)));
        yield return ("the worker's process starts (a second .NET runtime, the app's host building and services), connects over gRPC and is initialized", Stats.Median(runs.Select(t => t.Milestones!.WorkerInitialized - t.Milestones.WorkerStarted)));
        yield return ("the host asks for the worker's function metadata and has the functions loaded", Stats.Median(runs.Select(t => t.Milestones!.FunctionsLoaded - t.Milestones.WorkerInitialized)));
        yield return ("the host maps the HTTP routes, sets up queue and timer listeners and opens its port", Stats.Median(runs.Select(t => t.Milestones!.Listening - t.Milestones.FunctionsLoaded)));
        yield return ("the first /api/health that answers 200: through the host to the worker, its storage probes, and the benchmark's 10 ms polling", Stats.Median(runs.Select(t => t.HealthyMs - t.Milestones!.Listening)));
        yield return ("all of it (the median of the runs' totals)", Stats.Median(runs.Select(t => t.HealthyMs)));
    }

    private static double Median(IEnumerable<StartTiming> runs, Func<StartTiming, double> figure) => Stats.Median(runs.Select(figure));

    private static string SummaryRow(string name, IReadOnlyList<StartTiming> runs)
    {
        var healthy = runs.Select(t => t.HealthyMs).ToList();
        return $"| {name} | {Stats.Median(healthy):F0} ms | {Stats.Percentile(healthy, 90):F0} ms | {healthy.Min():F0} ms | {healthy.Max():F0} ms " +
               $"| {Stats.Median(runs.Select(t => t.AnsweringMs)):F0} ms | {Stats.Median(runs.Select(t => t.FirstRequestMs)):F0} ms | {runs.Count} |";
    }

    private static string Cell(StartTiming timing) => $"{timing.HealthyMs:F0} ({timing.AnsweringMs:F0} + {timing.FirstRequestMs:F0})";

    private static string Verdict(bool met) => met ? "PASS" : "FAIL";
}
