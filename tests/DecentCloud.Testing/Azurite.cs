using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace DecentCloud.Testing;

/// <summary>
/// A private Azurite for one test class or benchmark: in memory, on loopback, on ports the OS picks
/// (port 0; the real ports are read from Azurite's own start-up lines), stopped and gone with Dispose.
/// The npm package is installed into infra/local on first use if it is not there yet.
/// </summary>
public sealed partial class Azurite : IAsyncDisposable
{
    private const string AccountName = "devstoreaccount1";

    // Azurite's well-known development key; it opens nothing but a local emulator.
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly SemaphoreSlim InstallLock = new(1, 1);

    /// <summary>Runs <c>$0 "$@"</c> (Azurite) in the background and kills it once standard input closes.</summary>
    private const string WatchedScript = "\"$0\" \"$@\" & child=$!; exec >/dev/null 2>&1; trap 'kill -KILL \"$child\"' EXIT; read -r _";

    private readonly Process process;

    private Azurite(Process process, int blobPort, int queuePort, int tablePort)
    {
        this.process = process;
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
    }

    public int BlobPort { get; }

    public int QueuePort { get; }

    public int TablePort { get; }

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/{AccountName};" +
        $"QueueEndpoint=http://127.0.0.1:{QueuePort}/{AccountName};" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/{AccountName};";

    public static async Task<Azurite> StartAsync(CancellationToken cancellationToken = default)
    {
        var executable = await EnsureInstalledAsync(cancellationToken);
        var start = new ProcessStartInfo(OperatingSystem.IsWindows() ? executable : "/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = !OperatingSystem.IsWindows(),
            UseShellExecute = false,
        };
        if (!OperatingSystem.IsWindows())
        {
            // Azurite is started by a small shell that waits on a pipe only this process writes to: when this process
            // ends without stopping it (a test run that ends, a kill), the pipe closes and the shell kills Azurite, so no
            // Azurite outlives the run. The shell lets go of the output pipe, so an Azurite that dies still ends it.
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(WatchedScript);
            start.ArgumentList.Add(executable);
        }

        foreach (var argument in new[]
        {
            "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry", "--loose",
            "--blobHost", "127.0.0.1", "--blobPort", "0",
            "--queueHost", "127.0.0.1", "--queuePort", "0",
            "--tableHost", "127.0.0.1", "--tablePort", "0",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {executable}.");
        var output = new StringBuilder();
        var ports = new Dictionary<string, int>(StringComparer.Ordinal);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            if (line is null)
            {
                ready.TrySetException(new InvalidOperationException($"Azurite exited before it was listening:\n{output}"));
                return;
            }

            lock (output)
            {
                output.AppendLine(line);
                var match = ListeningLine().Match(line);
                if (match.Success)
                {
                    ports[match.Groups["service"].Value] = int.Parse(match.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture);
                    if (ports.Count == 3)
                    {
                        ready.TrySetResult();
                    }
                }
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }

        return new Azurite(process, ports["Blob"], ports["Queue"], ports["Table"]);
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            // In-memory data needs no orderly shutdown; Azurite's own can take minutes.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }

    /// <summary>The azurite script in infra/local/node_modules, installed with npm ci on first use.</summary>
    public static async Task<string> EnsureInstalledAsync(CancellationToken cancellationToken = default)
    {
        var folder = System.IO.Path.Combine(RepositoryRoot.Path, "infra", "local");
        var executable = System.IO.Path.Combine(folder, "node_modules", ".bin", "azurite");
        await InstallLock.WaitAsync(cancellationToken);
        try
        {
            if (File.Exists(executable))
            {
                return executable;
            }

            var install = new ProcessStartInfo("npm") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { "ci", "--no-audit", "--no-fund" })
            {
                install.ArgumentList.Add(argument);
            }

            using var npm = Process.Start(install) ?? throw new InvalidOperationException("Could not start npm; install Node.js and npm.");
            var stdout = npm.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = npm.StandardError.ReadToEndAsync(cancellationToken);
            await npm.WaitForExitAsync(cancellationToken);
            if (npm.ExitCode != 0 || !File.Exists(executable))
            {
                throw new InvalidOperationException($"npm ci in {folder} failed ({npm.ExitCode}):\n{await stdout}\n{await stderr}");
            }

            return executable;
        }
        finally
        {
            InstallLock.Release();
        }
    }

    [GeneratedRegex(@"Azurite (?<service>Blob|Queue|Table) service is successfully listening at http://[^:]+:(?<port>\d+)")]
    private static partial Regex ListeningLine();
}
