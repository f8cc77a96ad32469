using System.Text;

namespace DecentCloud.Benchmarks;

/// <summary>The invoice renders and what they mean against the targets.</summary>
/// <param name="Collections">Garbage collections of generations 0, 1 and 2 during the timed renders.</param>
internal sealed record PdfResult(PdfPlan Plan, IReadOnlyList<PdfRenders> Documents, IReadOnlyList<int> Collections, string LoadBefore, string LoadAfter)
{
    public const string SectionId = "pdf";
    public const double TargetMedianMs = 15;

    /// <summary>50 KB, counted as 50,000 bytes.</summary>
    public const int TargetBytes = 50_000;

    public bool TimeMet(PdfRenders renders) => Stats.Median(renders.Ms) <= TargetMedianMs;

    public bool SizeMet(PdfRenders renders) => renders.SizeBytes <= TargetBytes;

    public bool Passed => Documents.All(d => TimeMet(d) && SizeMet(d));

    public void PrintSummary()
    {
        foreach (var d in Documents)
        {
            Progress.Line($"pdf: {d.Name,-22} median {Stats.Median(d.Ms):F2} ms, p90 {Stats.Percentile(d.Ms, 90):F2} ms (target <= {TargetMedianMs:F0} ms): {Verdict(TimeMet(d))}; " +
                          $"{d.SizeBytes} bytes (target <= {TargetBytes}): {Verdict(SizeMet(d))}; {Allocated(d) / 1024:F0} KiB managed allocations per render; {d.Pages} page(s)");
        }

        Progress.Line($"pdf: 1-minute load average {LoadBefore} before, {LoadAfter} after (2 or more on 2 cores means other work shared the machine)");
    }

    public string ToMarkdown(Machine machine)
    {
        var md = new StringBuilder();
        md.AppendLine("## Invoice PDF: InvoicePdf.Render time and size");
        md.AppendLine();
        md.AppendLine($"{machine.Markdown} 1-minute load average {LoadBefore} before the runs, {LoadAfter} after.");
        md.AppendLine();
        md.AppendLine($"**{Verdict(Passed)}**: " + string.Join("; ", Documents.Select(d =>
            $"the {d.Name} renders in {Stats.Median(d.Ms):F2} ms (median) to {Kilobytes(d.SizeBytes)}")) + ".");
        md.AppendLine();
        md.AppendLine("| target | measured | verdict |");
        md.AppendLine("|---|---|---|");
        foreach (var d in Documents)
        {
            md.AppendLine($"| {d.Name}: median render ≤ {TargetMedianMs:F0} ms | {Stats.Median(d.Ms):F2} ms | {Verdict(TimeMet(d))} |");
            md.AppendLine($"| {d.Name}: PDF ≤ 50 KB ({TargetBytes:N0} bytes) | {d.SizeBytes:N0} bytes | {Verdict(SizeMet(d))} |");
        }

        md.AppendLine();
        md.AppendLine("| document | median | p90 | p99 | min | max | first render (cold) | managed allocations per render | size | pages | renders |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var d in Documents)
        {
            md.AppendLine($"| {d.Name} | {Stats.Median(d.Ms):F2} ms | {Stats.Percentile(d.Ms, 90):F2} ms | {Stats.Percentile(d.Ms, 99):F2} ms | {d.Ms.Min():F2} ms | {d.Ms.Max():F2} ms " +
                          $"| {d.FirstMs:F0} ms | {Allocated(d) / 1024:F0} KiB | {d.SizeBytes:N0} bytes | {d.Pages} | {d.Ms.Count} |");
        }

        md.AppendLine();
        md.AppendLine(string.Join("; ", Documents.Select(d => $"The {d.Name} {d.Description}")).Replace("; The", "; the", StringComparison.Ordinal) + ". " +
                      "Both have the seller's IBAN and VAT ID, a line item with hours and period, and the payment reference. " +
                      (Documents.All(d => d.SameBytes)
                          ? "Every render of a document gave the same bytes (the renderer is deterministic, as stored invoices need)."
                          : "Not every render of a document gave the same bytes as its first."));
        md.AppendLine();
        md.AppendLine("Method: `InvoicePdf.Render(InvoiceDocument)` called directly in the benchmark's process (Release, server GC; the function app runs the default workstation GC), on one thread. " +
                      "The first render of each document is timed on its own and reported, not counted: the first one in the process also loads the embedded DejaVu fonts, " +
                      "starts Skia's native library and JIT-compiles the renderer. " +
                      $"Then {Plan.WarmUps} warm-up renders of each, not counted, and {Plan.Renders} timed renders of each, the two documents alternating with the order rotated every round; " +
                      "each render is timed on its own with `Stopwatch.GetTimestamp`, from the call to the returned bytes (layout, font subsetting, Skia's PDF writer). " +
                      "Allocations are `GC.GetAllocatedBytesForCurrentThread()` around each render, the median given: managed memory only; " +
                      "Skia's own native buffers are not in the figure. " +
                      $"Garbage collections during the timed renders: {Collections[0]} of generation 0, {Collections[1]} of generation 1, {Collections[2]} of generation 2 " +
                      "(a render that met one is slower, which shows in the p99 and max). " +
                      "Size is the length of the returned PDF; pages are counted from its page objects. " +
                      "This is a careful Stopwatch loop rather than BenchmarkDotNet (not referenced by the benchmark project): per-render timings give the median and percentiles directly, " +
                      "and the figures stay in this program's one report. p90 and p99 are nearest-rank percentiles.");
        return md.ToString();
    }

    private static double Allocated(PdfRenders renders) => Stats.Median(renders.AllocatedBytes.Select(bytes => (double)bytes));

    private static string Kilobytes(int bytes) => $"{bytes / 1000.0:F1} KB ({bytes:N0} bytes)";

    private static string Verdict(bool met) => met ? "PASS" : "FAIL";
}
