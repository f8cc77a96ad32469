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
        md.AppendLine("## Start to healthy: function app against a bare ASP.NET Core app");
        md.AppendLine();
        md.AppendLine($"{machine.Markdown} 1-minute load average {LoadBefore} before the runs, {LoadAfter} after.");
        md.AppendLine();
        md.AppendLine($"**{Verdict(Passed)}**: the function app is healthy {FunctionMedian:F0} ms (median) after its process starts, " +
                      $"{Ratio:F2}× the bare app's {BareMedian:F0} ms.");
        md.AppendLine();
        md.AppendLine($"Where the difference goes (medians): the function app starts answering {Median(FunctionApp, t => t.AnsweringMs) - Median(BareApp, t => t.AnsweringMs):F0} ms later " +
                      $"than the bare app (the function host's own start-up: host.json and settings, their validation, its services and endpoints), " +
                      $"and its first /api/health takes {Median(FunctionApp, t => t.FirstRequestMs) - Median(BareApp, t => t.FirstRequestMs):F0} ms longer " +
                      "(its handler calls Azurite's tables, blobs and queues, and the Azure SDK runs for the first time in the process).");
        md.AppendLine();
        md.AppendLine("| target | measured | verdict |");
        md.AppendLine("|---|---|---|");
        md.AppendLine($"| function app median ≤ {TargetMedianMs / 1000:F1} s | {FunctionMedian:F0} ms | {Verdict(MedianMet)} |");
        md.AppendLine($"| function app median ≤ {TargetRatio:F1}× bare app median | {Ratio:F2}× | {Verdict(RatioMet)} |");
        md.AppendLine();
        md.AppendLine("| app | median | p90 | min | max | median until answering | median first request | runs |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        md.AppendLine(SummaryRow("function app (`dotnet DecentCloud.Functions.dll`)", FunctionApp));
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
        md.AppendLine("Method: both apps are built Release (they are project references of the benchmark, which runs with `-c Release`) " +
                      "and started as `dotnet <app>.dll` on a free loopback port, from a temporary folder. " +
                      "The function app gets its settings as environment variables: `AzureWebJobsStorage` is a private in-memory Azurite " +
                      "started for the benchmark, `FUNCTIONS_HTTP_PORT` the free port, `FUNCTIONS_MASTER_KEY` a 40-character dummy, " +
                      "`AzureWebJobsScriptRoot` the temporary folder holding a copy of the repository's host.json (so no local.settings.json " +
                      "is read); the other values of local.settings.sample.json are passed too, so a newly required setting cannot stop it. " +
                      "Its /api/health answers 200 only once tables, blobs and queues of that Azurite answer. " +
                      "The bare app (`tests/DecentCloud.Benchmarks.BareApp`) is `WebApplication.CreateSlimBuilder` (the builder the function host uses) " +
                      "with one `GET /api/health` returning 200, port given with `--urls`. " +
                      "A Stopwatch starts just before `Process.Start`; a fresh HttpClient polls `GET /api/health` every 10 ms " +
                      "(2 s request timeout) and the time of the first 200 is the figure, so it includes the runtime's start, JIT, " +
                      "host building, Kestrel binding and the first request. \"Until answering\" is when the first poll that got any " +
                      "answer was sent (the app was listening by then, within one poll); \"first request\" is the rest, that request's own time. " +
                      "Each process is killed right after. " +
                      $"One warm-up start of each app first (not counted), then {FunctionApp.Count} starts of each, alternating. " +
                      "p90 is the nearest-rank 90th percentile.");
        return md.ToString();
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
