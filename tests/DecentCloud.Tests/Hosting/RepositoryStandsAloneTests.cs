using System.Globalization;
using System.Text.RegularExpressions;
using DecentCloud.Testing;

namespace DecentCloud.Tests.Hosting;

/// <summary>
/// The repository is read on its own: docs, comments and scripts point only at files inside it, and every log event id
/// names one event, so an operator who searches the logs for an id finds one kind of line.
/// </summary>
public sealed partial class RepositoryStandsAloneTests
{
    /// <summary>Folders that hold build output, packages, test results or local state, never tracked files.</summary>
    private static readonly HashSet<string> SkippedFolders = new(StringComparer.Ordinal)
    {
        ".git", "bin", "obj", "node_modules", "TestResults", ".azurite", "BenchmarkDotNet.Artifacts", ".vs", ".idea",
    };

    /// <summary>Files .gitignore keeps out of the repository.</summary>
    private static readonly HashSet<string> SkippedFiles = new(StringComparer.Ordinal) { "local.settings.json" };

    /// <summary>
    /// Third-party and published files kept unchanged beside the tests, with their licences and sources (some are
    /// compared byte for byte with their originals), so their own mentions of files that were not copied stay as
    /// written. What the code relies on from those files is in docs/chatwoot.md and docs/billing.md (see the folder's
    /// README.md).
    /// </summary>
    private const string VerbatimCopies = "tests/DecentCloud.Tests/Contracts/";

    [Fact]
    public void No_file_points_at_documents_outside_the_repository()
    {
        var root = RepositoryRoot.Path;
        var found = new List<string>();
        foreach (var file in TextFiles(root).Where(f => !Relative(root, f).StartsWith(VerbatimCopies, StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(file);
            foreach (Match match in OutsideDocument().Matches(text))
            {
                found.Add($"{Where(root, file, text, match.Index)}: {match.Value} is not in this repository; say it in docs/ and point there");
            }

            foreach (Match match in SharedFolderPath().Matches(text))
            {
                var target = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, match.Value.Replace('\\', '/')));
                if (!IsInside(root, target) || !(File.Exists(target) || Directory.Exists(target)))
                {
                    found.Add($"{Where(root, file, text, match.Index)}: {match.Value} leads outside the repository");
                }
            }

            foreach (Match match in PublishedContractsPath().Matches(text))
            {
                found.Add($"{Where(root, file, text, match.Index)}: {match.Value} is outside the repository; the copies are in {VerbatimCopies}");
            }
        }

        Assert.True(found.Count == 0, string.Join(Environment.NewLine, found.Prepend($"{found.Count} reference(s) outside the repository:")));
    }

    [Fact]
    public void Every_log_event_id_is_used_once()
    {
        var root = RepositoryRoot.Path;
        var ids = new List<(int Id, string Where)>();
        foreach (var folder in new[] { "functions", "agent", "shared" })
        {
            foreach (var file in TextFiles(Path.Combine(root, folder)).Where(f => f.EndsWith(".cs", StringComparison.Ordinal)))
            {
                var text = File.ReadAllText(file);
                foreach (var pattern in new[] { LoggerMessageEventId(), NewEventId() })
                {
                    foreach (Match match in pattern.Matches(text))
                    {
                        var id = match.Groups["id"];
                        ids.Add((int.Parse(id.Value, CultureInfo.InvariantCulture), Where(root, file, text, id.Index)));
                    }
                }
            }
        }

        var duplicates = ids.GroupBy(i => i.Id).Where(g => g.Count() > 1)
            .Select(g => $"event id {g.Key} is used {g.Count()} times: {string.Join(", ", g.Select(i => i.Where))}")
            .ToList();

        Assert.True(ids.Count > 50, $"only {ids.Count} event ids found: the patterns no longer match how log events are declared");
        Assert.True(duplicates.Count == 0, string.Join(Environment.NewLine, duplicates));
    }

    [Fact]
    public void The_checks_find_what_they_look_for()
    {
        var markdown = "see DOMAIN" + ".md, \"Payments\", and ../" + "shared/STYLE.md";
        var code = "[LoggerMessage(EventId = 6010, Level = LogLevel.Warning, Message = \"x\")]\nlogger.Log(level, new EventId(42, \"y\"), \"z\");";

        Assert.Equal(["DOMAIN" + ".md"], OutsideDocument().Matches(markdown).Select(m => m.Value));
        Assert.Equal(["../" + "shared/STYLE.md"], SharedFolderPath().Matches(markdown).Select(m => m.Value));
        Assert.Single(PublishedContractsPath().Matches("copied from " + "shared/" + "contracts/chatwoot"));
        Assert.Empty(PublishedContractsPath().Matches("tests/DecentCloud.Tests/Contracts/chatwoot"));
        Assert.Equal(["6010"], LoggerMessageEventId().Matches(code).Select(m => m.Groups["id"].Value));
        Assert.Equal(["42"], NewEventId().Matches(code).Select(m => m.Groups["id"].Value));
    }

    private static IEnumerable<string> TextFiles(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            if (!SkippedFiles.Contains(Path.GetFileName(file)) && IsText(file))
            {
                yield return file;
            }
        }

        foreach (var child in Directory.EnumerateDirectories(folder).Where(d => !SkippedFolders.Contains(Path.GetFileName(d))))
        {
            foreach (var file in TextFiles(child))
            {
                yield return file;
            }
        }
    }

    /// <summary>A file with a NUL byte in its first 8 KB is binary (fonts, images); everything else is read as text.</summary>
    private static bool IsText(string file)
    {
        using var stream = File.OpenRead(file);
        var head = new byte[8192];
        var read = stream.Read(head, 0, head.Length);
        return Array.IndexOf(head, (byte)0, 0, read) < 0;
    }

    private static string Relative(string root, string file) => Path.GetRelativePath(root, file).Replace('\\', '/');

    private static bool IsInside(string root, string path) =>
        path.StartsWith(Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static string Where(string root, string file, string text, int index) =>
        $"{Relative(root, file)}:{text.AsSpan(0, index).Count('\n') + 1}";

    /// <summary>The project's design and rule documents and the Chatwoot endpoint notes, which live beside the repository.</summary>
    [GeneratedRegex(@"\b(?:DOMAIN|ARCHITECTURE|PLATFORM|ENDPOINTS)\.md\b")]
    private static partial Regex OutsideDocument();

    /// <summary>A path up into a folder named shared: fine when it lands on the repository's own shared/ code.</summary>
    [GeneratedRegex(@"(?:\.\.[/\\])+shared(?:[/\\][\w.\-]+)*")]
    private static partial Regex SharedFolderPath();

    /// <summary>The published contracts folder beside the repository (not a path up; those are checked above).</summary>
    [GeneratedRegex(@"(?<![\w./\\-])shared/(?:contracts)\b")]
    private static partial Regex PublishedContractsPath();

    [GeneratedRegex(@"\[LoggerMessage\((?:\s*(?<id>\d+)\s*,|[^\]]*?\bEventId\s*=\s*(?<id>\d+))", RegexOptions.Singleline)]
    private static partial Regex LoggerMessageEventId();

    [GeneratedRegex(@"\bnew\s+EventId\(\s*(?<id>\d+)")]
    private static partial Regex NewEventId();
}
