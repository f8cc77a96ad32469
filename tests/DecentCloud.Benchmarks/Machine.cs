using System.Diagnostics;
using System.Runtime.InteropServices;
using DecentCloud.Testing;

namespace DecentCloud.Benchmarks;

/// <summary>Where and when the figures were measured, for the report.</summary>
internal sealed record Machine(DateTimeOffset Date, int Cores, string Cpu, double MemoryGiB, string Os, string Runtime, string Commit)
{
    public string Description => $"{Cores} cores ({Cpu}), {MemoryGiB:F0} GiB, {Os}, {Runtime}";

    public string Markdown =>
        $"Measured {Date:yyyy-MM-dd HH:mm} UTC on {Description}; {Commit}.";

    public static Machine Describe() => new(
        DateTimeOffset.UtcNow,
        Environment.ProcessorCount,
        CpuModel(),
        GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024),
        OperatingSystem(),
        $"{RuntimeInformation.FrameworkDescription} ({RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()})",
        Checkout());

    private static string CpuModel()
    {
        const string cpuInfo = "/proc/cpuinfo";
        if (File.Exists(cpuInfo))
        {
            var model = File.ReadLines(cpuInfo).FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal));
            if (model is not null && model.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0)
            {
                return model[(colon + 1)..].Trim();
            }
        }

        return "CPU model unknown";
    }

    private static string OperatingSystem()
    {
        const string osRelease = "/etc/os-release";
        if (File.Exists(osRelease))
        {
            var pretty = File.ReadLines(osRelease).FirstOrDefault(line => line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal));
            if (pretty is not null)
            {
                return $"{pretty["PRETTY_NAME=".Length..].Trim('"')} (kernel {Environment.OSVersion.Version})";
            }
        }

        return RuntimeInformation.OSDescription;
    }

    /// <summary>The commit measured, and whether the app's code had uncommitted changes at the time.</summary>
    private static string Checkout()
    {
        var commit = Git("rev-parse", "--short", "HEAD");
        if (commit is null)
        {
            return "commit unknown (git not available)";
        }

        var changes = Git("status", "--porcelain", "--", "functions", "shared", "host.json");
        return string.IsNullOrWhiteSpace(changes)
            ? $"commit {commit}"
            : $"commit {commit} with uncommitted changes under functions/ or shared/";
    }

    private static string? Git(params string[] arguments)
    {
        var start = new ProcessStartInfo("git")
        {
            WorkingDirectory = RepositoryRoot.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var git = Process.Start(start);
            if (git is null)
            {
                return null;
            }

            var output = git.StandardOutput.ReadToEnd();
            git.WaitForExit();
            return git.ExitCode == 0 ? output.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
