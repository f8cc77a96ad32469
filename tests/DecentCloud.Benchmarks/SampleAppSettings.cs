namespace DecentCloud.Benchmarks;

/// <summary>
/// Settings for tests/FunctionsHost.SampleApp under the benchmarks: every queue and schedule its functions name, and all
/// of them off but the ones a benchmark runs, so only their listeners (and the task hub the app's durable functions need)
/// poll storage while it measures.
/// </summary>
internal static class SampleAppSettings
{
    /// <summary>The sample's queue function that does nothing (tests/FunctionsHost.SampleApp/Discard.cs).</summary>
    public const string NoOpFunction = "Discard";

    /// <summary>The sample's orchestration of three activities (tests/FunctionsHost.SampleApp/Durable.cs).</summary>
    public const string Orchestration = "Chain";

    /// <summary>Its activity, which each of the three steps calls.</summary>
    public const string Activity = "Step";

    /// <summary>The sample's functions that poll storage or run by themselves, none of which a benchmark measures.</summary>
    private static readonly string[] Others = ["ProcessWork", "DescribeMessage", "SlowWork", "Tick", "StartupTick"];

    /// <param name="noOpQueue">The queue <see cref="NoOpFunction"/> listens on; null turns it off.</param>
    public static Dictionary<string, string?> For(string storageConnectionString, string? noOpQueue, string taskHub)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["AzureWebJobsStorage"] = storageConnectionString,
            ["FUNCTIONS_HTTP_PORT"] = "0",
            ["FUNCTIONS_HOST_ID"] = "benchmark",
            ["FUNCTIONS_MASTER_KEY"] = AppSettings.DummyMasterKey,
            ["SAMPLE_NOOP_QUEUE"] = noOpQueue ?? "bench-noop-off",
            ["SAMPLE_TASK_HUB"] = taskHub,
            ["SAMPLE_WORK_QUEUE"] = "bench-work",
            ["SAMPLE_DONE_QUEUE"] = "bench-done",
            ["SAMPLE_TICKS_QUEUE"] = "bench-ticks",
            ["SAMPLE_DESCRIBE_QUEUE"] = "bench-describe",
            ["SAMPLE_SLOW_QUEUE"] = "bench-slow",
            ["SAMPLE_TICK_SCHEDULE"] = "0 0 0 1 1 *",
        };
        foreach (var function in Others)
        {
            values[$"AzureWebJobs.{function}.Disabled"] = "true";
        }

        if (noOpQueue is null)
        {
            values[$"AzureWebJobs.{NoOpFunction}.Disabled"] = "true";
        }

        return values;
    }
}
