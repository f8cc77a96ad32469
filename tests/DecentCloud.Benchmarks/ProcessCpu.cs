using System.Diagnostics;

namespace DecentCloud.Benchmarks;

/// <summary>Processor time of the benchmark's own process and of the worker process the local host started.</summary>
/// <param name="Self">This process: the load's client, and the local host where it runs here.</param>
/// <param name="Worker">The app's worker process; zero where there is none.</param>
internal sealed record CpuSample(TimeSpan Self, TimeSpan Worker)
{
    public TimeSpan Total => Self + Worker;

    public static CpuSample operator -(CpuSample after, CpuSample before) => new(after.Self - before.Self, after.Worker - before.Worker);

    /// <summary>This process alone.</summary>
    public static CpuSample OfSelf()
    {
        using var self = Process.GetCurrentProcess();
        return new CpuSample(self.TotalProcessorTime, TimeSpan.Zero);
    }

    /// <summary>This process and the worker <paramref name="workerProcessId"/>.</summary>
    public static CpuSample With(int workerProcessId)
    {
        if (workerProcessId <= 0)
        {
            throw new BenchmarkException("The local host did not log its worker's process id (event 1201), so the worker's CPU cannot be measured.");
        }

        using var self = Process.GetCurrentProcess();
        try
        {
            using var worker = Process.GetProcessById(workerProcessId);
            return new CpuSample(self.TotalProcessorTime, worker.TotalProcessorTime);
        }
        catch (ArgumentException ex)
        {
            throw new BenchmarkException($"The worker process {workerProcessId} is gone.", ex);
        }
    }
}
