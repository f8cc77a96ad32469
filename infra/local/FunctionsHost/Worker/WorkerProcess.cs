using System.Diagnostics;
using System.Globalization;

namespace DecentCloud.FunctionsHost.Worker;

/// <summary>
/// The worker process, started as the Functions host starts a language worker: the worker.config.json executable with
/// the worker assembly, the host's gRPC address and the worker's id as arguments, and the app's folder in
/// <c>FUNCTIONS_APPLICATION_DIRECTORY</c>. Its console output goes to the host's log; a <see cref="WorkerWatchdog"/>
/// kills it if the host dies without stopping it.
/// </summary>
internal sealed partial class WorkerProcess : IAsyncDisposable
{
    /// <summary>The largest gRPC message either side accepts, as the Functions host sets it.</summary>
    public const int MaxMessageLength = int.MaxValue;

    private const int RememberedLines = 40;

    private readonly Process process;
    private readonly ILogger logger;
    private readonly Queue<string> recentLines = new();
    private readonly TaskCompletionSource exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WorkerWatchdog? watchdog;

    private WorkerProcess(Process process, ILogger logger)
    {
        this.process = process;
        this.logger = logger;
    }

    /// <summary>Completes when the process has exited, for whatever reason, and its output has been read to the end.</summary>
    public Task Exited => exited.Task;

    public int ProcessId => process.Id;

    public int? ExitCode => process.HasExited ? process.ExitCode : null;

    public static WorkerProcess Start(WorkerConfig config, string appDirectory, Uri rpcAddress, string workerId, IReadOnlyDictionary<string, string> environment, ILogger logger)
    {
        var start = new ProcessStartInfo(ExecutablePath(config, appDirectory))
        {
            WorkingDirectory = appDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (!string.IsNullOrEmpty(config.WorkerPath) && !string.Equals(ExecutablePath(config, appDirectory), Path.Combine(appDirectory, config.WorkerPath), StringComparison.Ordinal))
        {
            start.ArgumentList.Add(Path.Combine(appDirectory, config.WorkerPath));
        }

        // The same arguments the Functions host gives: the old short names and the --functions-* names the .NET
        // worker reads (Functions:Worker:HostEndpoint and its siblings).
        var requestId = Guid.NewGuid().ToString();
        var maxLength = MaxMessageLength.ToString(CultureInfo.InvariantCulture);
        foreach (var argument in new[]
        {
            "--host", rpcAddress.Host, "--port", rpcAddress.Port.ToString(CultureInfo.InvariantCulture),
            "--workerId", workerId, "--requestId", requestId, "--grpcMaxMessageLength", maxLength,
            "--functions-uri", rpcAddress.AbsoluteUri, "--functions-worker-id", workerId,
            "--functions-request-id", requestId, "--functions-grpc-max-message-length", maxLength,
        })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        start.Environment["FUNCTIONS_WORKER_RUNTIME"] = config.Language;
        start.Environment["FUNCTIONS_APPLICATION_DIRECTORY"] = appDirectory;
        start.Environment["FUNCTIONS_WORKER_DIRECTORY"] = appDirectory;
        start.Environment["AzureWebJobsScriptRoot"] = appDirectory;

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var worker = new WorkerProcess(process, logger);
        process.OutputDataReceived += (_, e) => worker.OnOutput(e.Data, error: false);
        process.ErrorDataReceived += (_, e) => worker.OnOutput(e.Data, error: true);
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            process.Dispose();
            throw new InvalidOperationException($"Could not start the worker process {start.FileName} in {appDirectory}.", ex);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // Not the Exited event, which can come before the last lines are read: a worker that dies at start-up reports why
        // on its standard error, and RecentOutput must hold it. WaitForExitAsync also waits for both streams to end.
        _ = process.WaitForExitAsync().ContinueWith(_ => worker.exited.TrySetResult(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        LogStarted(logger, process.Id, start.FileName, config.WorkerPath);
        worker.watchdog = WorkerWatchdog.Start(process.Id, logger);
        _ = worker.Exited.ContinueWith(_ => worker.watchdog?.Dispose(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        return worker;
    }

    /// <summary>The last lines the worker wrote, for an error message when it fails to start.</summary>
    public string RecentOutput()
    {
        lock (recentLines)
        {
            return string.Join(Environment.NewLine, recentLines);
        }
    }

    /// <summary>Waits for the process to end by itself, and kills it (with its children) if it has not within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (process.HasExited)
        {
            return;
        }

        try
        {
            await process.WaitForExitAsync().WaitAsync(grace);
        }
        catch (TimeoutException)
        {
            LogKilled(logger, process.Id, grace.TotalSeconds);
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.Zero);
        watchdog?.Dispose();
        process.Dispose();
    }

    private static string ExecutablePath(WorkerConfig config, string appDirectory) =>
        Path.IsPathRooted(config.ExecutablePath) || !config.ExecutablePath.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal)
            ? config.ExecutablePath
            : Path.Combine(appDirectory, config.ExecutablePath);

    private void OnOutput(string? line, bool error)
    {
        if (line is null)
        {
            return;
        }

        lock (recentLines)
        {
            recentLines.Enqueue(line);
            if (recentLines.Count > RememberedLines)
            {
                recentLines.Dequeue();
            }
        }

        if (error)
        {
            LogStandardError(logger, line);
        }
        else
        {
            LogStandardOutput(logger, line);
        }
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Started the worker process {ProcessId}: {Executable} {WorkerPath}")]
    private static partial void LogStarted(ILogger logger, int processId, string executable, string workerPath);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "{Line}")]
    private static partial void LogStandardOutput(ILogger logger, string line);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Warning, Message = "{Line}")]
    private static partial void LogStandardError(ILogger logger, string line);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Warning, Message = "The worker process {ProcessId} did not stop within {GraceSeconds} s; killed it")]
    private static partial void LogKilled(ILogger logger, int processId, double graceSeconds);
}
