using System.Text;
using DecentCloud.Testing;

namespace DecentCloud.Benchmarks;

/// <summary>
/// docs/performance.md: each benchmark owns one section between its own begin and end markers. Writing
/// a section replaces only that section (or appends it the first time), so other benchmarks can add
/// theirs and prose outside the markers is kept.
/// </summary>
internal static class PerformanceDoc
{
    private const string Preamble =
        """
        # Performance

        Figures measured on a real machine by the benchmark programs under `tests/`, with their targets.
        Each benchmark owns one section between `<!-- benchmark:NAME:begin -->` and
        `<!-- benchmark:NAME:end -->`; a run rewrites only its own sections and leaves the rest of this
        file alone, so a new benchmark adds its own section and text outside the markers stays.

        Start-up, queue throughput, the Stripe webhook's acknowledgement, orchestrations, agents' polls, the invoice PDF and the release timer:
        `dotnet run -c Release --project tests/DecentCloud.Benchmarks -- [startup|queues|webhooks|orchestrations|agents|pdf|releases|all]`
        (`--quick` tries it out without writing here).

        """;

    public static string Path => System.IO.Path.Combine(RepositoryRoot.Path, "docs", "performance.md");

    /// <returns>The file written.</returns>
    public static string WriteSection(string id, string markdown)
    {
        var begin = $"<!-- benchmark:{id}:begin -->";
        var end = $"<!-- benchmark:{id}:end -->";
        var block = $"{begin}\n{markdown.Trim()}\n{end}";

        var text = File.Exists(Path) ? File.ReadAllText(Path) : Preamble;
        var from = text.IndexOf(begin, StringComparison.Ordinal);
        var to = from < 0 ? -1 : text.IndexOf(end, from, StringComparison.Ordinal);
        text = from >= 0 && to > from
            ? text[..from] + block + text[(to + end.Length)..]
            : $"{text.TrimEnd()}\n\n{block}\n";

        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        File.WriteAllText(Path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return Path;
    }
}
