using System.Diagnostics;

namespace DecentCloud.Benchmarks;

/// <summary>
/// Runs the chosen benchmarks, prints their progress and figures, and writes each one's section of
/// docs/performance.md. Exit code 0 when every target is met, 1 when one is missed, 2 when a benchmark
/// could not run.
/// </summary>
internal static class BenchmarkCommand
{
    private const string Usage =
        "usage: dotnet run -c Release --project tests/DecentCloud.Benchmarks -- [startup|queues|webhooks|orchestrations|agents|pdf|releases|all] [--quick] [--no-docs]\n" +
        "  startup         process start until GET /api/health answers 200: the local Functions host and the app's worker against a bare ASP.NET Core app\n" +
        "  queues          messages/s through a no-op queue function (local host and a real worker) against a raw receive-and-delete loop\n" +
        "  webhooks        Stripe webhook acknowledgement through the local host and the worker against a bare queue put, and webhooks/s under concurrency\n" +
        "  orchestrations  a three-activity orchestration through the local host and a worker against the Durable Task Framework directly:\n" +
        "                  latency one at a time, and the wall time of 100 started at once\n" +
        "  agents          dc-agent's signed pending-work poll through the local host and the worker against the same reads through the Azure SDK\n" +
        "                  (polls/s), and the latency of 1,000 agents each polling every 30 s (open loop)\n" +
        "  pdf             InvoicePdf.Render time, allocations and size for an invoice and a credit note\n" +
        "  releases        the release timer's work (PaymentReleases.ReleaseAllAsync) over 10,000 paid contracts in service: time and storage requests per contract\n" +
        "  all             every one of them, one after the other (the default)\n" +
        "  --quick         fewer runs and messages, for trying the benchmark out; implies --no-docs\n" +
        "  --no-docs       print the figures but leave docs/performance.md alone";

    public static async Task<int> RunAsync(string[] args)
    {
        var which = "all";
        var quick = false;
        var writeDocs = true;
        foreach (var arg in args)
        {
            switch (arg)
            {
                case "startup" or "queues" or "webhooks" or "orchestrations" or "agents" or "pdf" or "releases" or "all":
                    which = arg;
                    break;
                case "--quick":
                    quick = true;
                    writeDocs = false;
                    break;
                case "--no-docs":
                    writeDocs = false;
                    break;
                case "-h" or "--help":
                    Console.WriteLine(Usage);
                    return 0;
                default:
                    await Console.Error.WriteLineAsync($"Unknown argument '{arg}'.\n{Usage}");
                    return 2;
            }
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // Let the benchmark stop its child processes and Azurite on the way out.
            e.Cancel = true;
            cancel.Cancel();
        };

        var total = Stopwatch.StartNew();
        try
        {
            var outputs = BuildOutputs.Locate();
            var machine = Machine.Describe();
            Progress.Line($"machine: {machine.Description}");
            Progress.Line($"checkout: {machine.Commit}");
            var passed = true;

            if (which is "startup" or "all")
            {
                var startup = await StartupBenchmark.RunAsync(outputs, quick ? StartupPlan.Quick : StartupPlan.Full, cancel.Token);
                startup.PrintSummary();
                passed &= startup.Passed;
                Publish(writeDocs, StartupResult.SectionId, startup.ToMarkdown(machine));
            }

            if (which is "queues" or "all")
            {
                var queues = await QueueBenchmark.RunAsync(outputs, quick ? QueuePlan.Quick : QueuePlan.Full, cancel.Token);
                queues.PrintSummary();
                passed &= queues.Passed;
                Publish(writeDocs, QueueResult.SectionId, queues.ToMarkdown(machine));
            }

            if (which is "webhooks" or "all")
            {
                var webhooks = await WebhookBenchmark.RunAsync(outputs, quick ? WebhookPlan.Quick : WebhookPlan.Full, cancel.Token);
                webhooks.PrintSummary();
                passed &= webhooks.Passed;
                Publish(writeDocs, WebhookResult.SectionId, webhooks.ToMarkdown(machine));
            }

            if (which is "orchestrations" or "all")
            {
                var orchestrations = await OrchestrationBenchmark.RunAsync(outputs, quick ? OrchestrationPlan.Quick : OrchestrationPlan.Full, cancel.Token);
                orchestrations.PrintSummary();
                passed &= orchestrations.Passed;
                Publish(writeDocs, OrchestrationResult.SectionId, orchestrations.ToMarkdown(machine));
            }

            if (which is "agents" or "all")
            {
                var agents = await AgentsBenchmark.RunAsync(outputs, quick ? AgentsPlan.Quick : AgentsPlan.Full, cancel.Token);
                agents.PrintSummary();
                passed &= agents.Passed;
                Publish(writeDocs, AgentsResult.SectionId, agents.ToMarkdown(machine));
            }

            if (which is "pdf" or "all")
            {
                var pdf = PdfBenchmark.Run(quick ? PdfPlan.Quick : PdfPlan.Full);
                pdf.PrintSummary();
                passed &= pdf.Passed;
                Publish(writeDocs, PdfResult.SectionId, pdf.ToMarkdown(machine));
            }

            if (which is "releases" or "all")
            {
                var releases = await ReleasesBenchmark.RunAsync(quick ? ReleasesPlan.Quick : ReleasesPlan.Full, cancel.Token);
                releases.PrintSummary();
                passed &= releases.Passed;
                Publish(writeDocs, ReleasesResult.SectionId, releases.ToMarkdown(machine));
            }

            Progress.Line($"finished in {total.Elapsed.TotalSeconds:F0} s: {(passed ? "every target met (PASS)" : "a target was missed (FAIL)")}");
            return passed ? 0 : 1;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("Cancelled: a benchmark that had finished has written its section, the one cut short has not.");
            return 2;
        }
        catch (BenchmarkException ex)
        {
            await Console.Error.WriteLineAsync($"The benchmark could not run: {ex}");
            return 2;
        }
    }

    private static void Publish(bool writeDocs, string sectionId, string markdown)
    {
        if (!writeDocs)
        {
            Progress.Line($"docs/performance.md left alone (section '{sectionId}' not written)");
            return;
        }

        var path = PerformanceDoc.WriteSection(sectionId, markdown);
        Progress.Line($"wrote section '{sectionId}' of {path}");
    }
}

/// <summary>Something the benchmark needs is missing or broken (not a missed target).</summary>
internal sealed class BenchmarkException : Exception
{
    public BenchmarkException(string message)
        : base(message)
    {
    }

    public BenchmarkException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Progress lines on the console, stamped with the time since the run began.</summary>
internal static class Progress
{
    private static readonly Stopwatch Clock = Stopwatch.StartNew();

    public static void Line(string text) =>
        Console.WriteLine($"[{Clock.Elapsed:mm\\:ss\\.f}] {text}");
}
