namespace DecentCloud.Benchmarks;

/// <summary>
/// The machine's 1-minute load average, so a report shows whether other work shared the cores while it
/// was measured (anything near or above the core count makes the figures slower and noisier).
/// </summary>
internal static class LoadAverage
{
    public static string Read()
    {
        const string loadAvg = "/proc/loadavg";
        return File.Exists(loadAvg) ? File.ReadAllText(loadAvg).Split(' ')[0] : "unknown";
    }
}
