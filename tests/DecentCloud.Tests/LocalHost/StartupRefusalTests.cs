using DecentCloud.Tests.Support;
using Xunit.Abstractions;

namespace DecentCloud.Tests.LocalHost;

/// <summary>Settings the local Functions host refuses at start-up, naming them, before it starts the worker.</summary>
public sealed class StartupRefusalTests(ITestOutputHelper output)
{
    /// <summary>Never reached: every start here fails before the host touches storage.</summary>
    private const string Storage = "UseDevelopmentStorage=true";

    [Theory]
    [InlineData("FUNCTIONS_HOST_KEYS__ops", "FUNCTIONS_HOST_KEYS__ops")]
    [InlineData("FUNCTIONS_FUNCTION_KEYS__Echo__ci", "FUNCTIONS_FUNCTION_KEYS__Echo__ci")]
    [InlineData("FUNCTIONS_MASTER_KEY", "FUNCTIONS_MASTER_KEY")]
    public async Task Short_key_stops_start_up_with_its_setting_name(string setting, string named)
    {
        var failure = await RefusedAsync(new Dictionary<string, string?> { [setting] = "short" });

        Assert.Contains(named, failure, StringComparison.Ordinal);
        Assert.DoesNotContain("short'", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("batchSize", "100", "batchSize")]
    [InlineData("newBatchThreshold", "-1", "newBatchThreshold")]
    [InlineData("maxDequeueCount", "0", "maxDequeueCount")]
    [InlineData("visibilityTimeout", "8.00:00:00", "visibilityTimeout")]
    [InlineData("maxDequeueCount", "three", "MaxDequeueCount")]
    public async Task Bad_host_json_queue_setting_stops_start_up_naming_it(string setting, string value, string named)
    {
        var failure = await RefusedAsync(new Dictionary<string, string?> { [$"AzureFunctionsJobHost__extensions__queues__{setting}"] = value });

        Assert.Contains(named, failure, StringComparison.Ordinal);
    }

    /// <summary>Starts the sample app with these settings, expects the start to fail before any worker starts, and answers the failure.</summary>
    private async Task<string> RefusedAsync(Dictionary<string, string?> settings)
    {
        var logs = new CapturedLogs();
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => SampleHost.StartAsync(Storage, settings: settings, output: output, logs: logs));

        Assert.DoesNotContain(logs.Entries, e => e.EventId.Id == 1201);
        Assert.Single(logs.Entries, e => e.EventId.Id == 1221);
        return failure.ToString();
    }
}
