using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using DecentCloud.FunctionsHost;
using Xunit.Abstractions;

namespace DecentCloud.Tests.LocalHost;

/// <summary>
/// The local Functions host running an app (the sample app, or the function app) in a process of its own, as
/// <c>dotnet run --project infra/local/FunctionsHost -- app-folder</c> runs it, so that a test can kill it the hard way.
/// Its console lines are kept, and written to the test's output when it is disposed.
/// </summary>
public sealed partial class HostProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process process;
    private readonly ITestOutputHelper? output;
    private readonly ConcurrentQueue<string> lines = new();
    private readonly TaskCompletionSource<Uri> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int workerProcessId;

    private HostProcess(Process process, ITestOutputHelper? output)
    {
        this.process = process;
        this.output = output;
    }

    /// <summary>Where the HTTP triggers answer (routes start with api/).</summary>
    public Uri BaseAddress => listening.Task.Result;

    public HttpClient Client { get; private set; } = new();

    /// <summary>The process id of the worker this host started.</summary>
    public int WorkerProcessId => workerProcessId;

    public IReadOnlyCollection<string> Lines => lines;

    /// <summary>Starts the host on the sample app with <see cref="SampleHost.Settings"/> in its environment; answers once it listens.</summary>
    public static Task<HostProcess> StartAsync(string storage, SampleNames names, IDictionary<string, string?>? settings = null, ITestOutputHelper? output = null) =>
        StartAsync(SampleHost.AppDirectory, SampleHost.Settings(storage, names, settings), output);

    /// <summary>Starts the host on the built app in <paramref name="appDirectory"/> with <paramref name="settings"/> in its environment; answers once it listens.</summary>
    public static async Task<HostProcess> StartAsync(string appDirectory, IDictionary<string, string?> settings, ITestOutputHelper? output = null)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(LocalFunctionsHost).Assembly.Location);
        start.ArgumentList.Add(appDirectory);
        foreach (var (name, value) in settings)
        {
            start.Environment[name] = value;
        }

        var host = new HostProcess(new Process { StartInfo = start }, output);
        host.process.OutputDataReceived += (_, e) => host.OnLine(e.Data);
        host.process.ErrorDataReceived += (_, e) => host.OnLine(e.Data);
        host.process.Start();
        host.process.BeginOutputReadLine();
        host.process.BeginErrorReadLine();
        try
        {
            var first = await Task.WhenAny(host.listening.Task, host.process.WaitForExitAsync()).WaitAsync(StartTimeout);
            if (first != host.listening.Task)
            {
                throw new InvalidOperationException($"The host exited with code {host.process.ExitCode} before it listened:{Environment.NewLine}{string.Join(Environment.NewLine, host.lines)}");
            }

            host.Client = new HttpClient { BaseAddress = await host.listening.Task };
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>Whether a process runs (a zombie, which a killed host's worker is until someone reaps it, does not).</summary>
    public static bool IsRunning(int processId)
    {
        if (OperatingSystem.IsLinux())
        {
            var stat = $"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/stat";
            try
            {
                var text = File.ReadAllText(stat);
                var state = text[(text.LastIndexOf(')') + 2)..][0];
                return state is not ('Z' or 'X');
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                return false;
            }
        }

        try
        {
            using var found = Process.GetProcessById(processId);
            return !found.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>SIGKILL to the host alone: not its worker, which it does not get to stop.</summary>
    public async Task KillAsync()
    {
        process.Kill(entireProcessTree: false);
        await process.WaitForExitAsync();
    }

    /// <summary>SIGKILL to the host and then at once to its worker: the machine went away, and neither got to do anything more.</summary>
    public async Task KillWithWorkerAsync()
    {
        process.Kill(entireProcessTree: false);
        if (workerProcessId != 0)
        {
            try
            {
                using var worker = Process.GetProcessById(workerProcessId);
                worker.Kill();
            }
            catch (ArgumentException)
            {
                // Gone already: its watchdog saw the host die first. The test checks it is not running either way.
            }
        }

        await process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!process.HasExited)
        {
            // SIGTERM, as Ctrl-C or a supervisor would stop it; killed when it does not stop in time.
            using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync();
            }

            try
            {
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        // A worker left running would outlive the test run: a test that saw it so has failed already.
        if (workerProcessId != 0 && IsRunning(workerProcessId))
        {
            using var worker = Process.GetProcessById(workerProcessId);
            worker.Kill();
        }

        process.Dispose();
        foreach (var line in output is null ? [] : lines)
        {
            output!.WriteLine(line);
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lines.Enqueue(line);
        if (WorkerStarted().Match(line) is { Success: true } worker)
        {
            workerProcessId = int.Parse(worker.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        if (Listening().Match(line) is { Success: true } address)
        {
            listening.TrySetResult(new Uri(address.Groups[1].Value));
        }
    }

    [GeneratedRegex(@"\[1201\] Started the worker process (\d+)")]
    private static partial Regex WorkerStarted();

    [GeneratedRegex(@"\[1220\] Local Functions host listening on (\S+) with")]
    private static partial Regex Listening();
}
