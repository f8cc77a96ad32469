using System.Diagnostics;
using System.Globalization;

namespace DecentCloud.FunctionsHost.Worker;

/// <summary>
/// Kills the worker process when this host dies without stopping it (SIGKILL, a crash), so that no orphaned worker keeps
/// its port and goes on running functions. The .NET worker does not exit when its gRPC stream to the host ends (it
/// stops only on WorkerTerminate or a signal), and the worker is the app's own code, which knows nothing of this host.
/// So a tiny shell process beside the worker reads a pipe whose writing end only this host holds: when the host dies,
/// the kernel closes that end, the shell reads end-of-file and kills the worker. When the worker exits, or the host
/// stops it, the watchdog is ended first. Unix only (<c>/bin/sh</c>); on Windows there is none.
/// </summary>
internal sealed partial class WorkerWatchdog : IDisposable
{
    private const string Script = """read -r _; kill -KILL "$1" 2>/dev/null""";

    private readonly Process process;
    private int disposed;

    private WorkerWatchdog(Process process) => this.process = process;

    /// <summary>Starts the watchdog of a started worker; null on Windows, or when no shell could be started (logged).</summary>
    public static WorkerWatchdog? Start(int workerProcessId, ILogger logger)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in new[] { "-c", Script, "worker-watchdog", workerProcessId.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            process.Dispose();
            LogNotStarted(logger, ex, workerProcessId);
            return null;
        }

        LogStarted(logger, process.Id, workerProcessId);
        return new WorkerWatchdog(process);
    }

    /// <summary>Ends the watchdog without it touching the worker: killed, the shell runs nothing more.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        // Kill does nothing to a process that has exited, and this host reaps its own children, so the watchdog's
        // process id is not reused before it is killed.
        process.Kill();
        process.WaitForExit();
        process.Dispose();
    }

    [LoggerMessage(EventId = 1232, Level = LogLevel.Debug, Message = "Process {WatchdogId} kills the worker process {WorkerId} if this host dies")]
    private static partial void LogStarted(ILogger logger, int watchdogId, int workerId);

    [LoggerMessage(EventId = 1233, Level = LogLevel.Warning, Message = "Could not start the watchdog of the worker process {WorkerId}; if this host is killed, kill the worker too")]
    private static partial void LogNotStarted(ILogger logger, Exception exception, int workerId);
}
