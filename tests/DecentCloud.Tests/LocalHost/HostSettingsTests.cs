using DecentCloud.FunctionsHost.Configuration;

namespace DecentCloud.Tests.LocalHost;

/// <summary>Which source of a setting wins, for the local host and for the worker it starts.</summary>
public sealed class HostSettingsTests : IDisposable
{
    private readonly string appDirectory = Directory.CreateTempSubdirectory("dc-host-settings-").FullName;

    public HostSettingsTests() => File.WriteAllText(Path.Combine(appDirectory, "host.json"), """{ "version": "2.0" }""");

    public void Dispose() => Directory.Delete(appDirectory, recursive: true);

    [Fact]
    public void An_environment_variable_wins_over_local_settings_json_for_the_host_and_the_worker()
    {
        // Names no other test or process uses, so setting them in this process's environment disturbs nothing.
        var inEnvironment = "DC_TEST_ENV_" + Guid.NewGuid().ToString("N");
        var onlyInFile = "DC_TEST_FILE_" + Guid.NewGuid().ToString("N");
        File.WriteAllText(
            Path.Combine(appDirectory, "local.settings.json"),
            $$"""{ "IsEncrypted": false, "Values": { "{{inEnvironment}}": "from the file", "{{onlyInFile}}": "from the file" } }""");
        Environment.SetEnvironmentVariable(inEnvironment, "from the environment");
        try
        {
            var settings = HostSettings.Load(appDirectory, "App", new Dictionary<string, string?>());

            Assert.Equal("from the environment", settings.Configuration[inEnvironment]);
            // The worker inherits the host's environment; it must not be handed the file's value over it.
            Assert.False(settings.WorkerEnvironment.ContainsKey(inEnvironment), "the file's value was put into the worker's environment");
            Assert.Equal("from the file", settings.Configuration[onlyInFile]);
            Assert.Equal("from the file", settings.WorkerEnvironment[onlyInFile]);
        }
        finally
        {
            Environment.SetEnvironmentVariable(inEnvironment, null);
        }
    }

    [Fact]
    public void A_caller_setting_wins_over_the_environment_and_reaches_the_worker()
    {
        var name = "DC_TEST_ENV_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(name, "from the environment");
        try
        {
            var settings = HostSettings.Load(appDirectory, "App", new Dictionary<string, string?> { [name] = "from the caller" });

            Assert.Equal("from the caller", settings.Configuration[name]);
            Assert.Equal("from the caller", settings.WorkerEnvironment[name]);
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }
}
