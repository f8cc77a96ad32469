using System.Diagnostics;
using DecentCloud.Functions.Platform.Configuration;
using DecentCloud.Testing;
using DecentCloud.Tests.Support;
using Microsoft.Extensions.Options;

namespace DecentCloud.Tests.Hosting;

public sealed class SettingsTests
{
    private const string Storage = "UseDevelopmentStorage=true";

    private static async Task<string> StartUpFailure(IDictionary<string, string?> settings, string hostJson = TestFunctionApp.DefaultHostJson)
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => TestFunctionApp.StartAsync(Storage, settings: settings, hostJson: hostJson));
        return failure.ToString();
    }

    [Theory]
    [InlineData("AzureWebJobsStorage", "")]
    [InlineData("AzureWebJobsStorage", "this is not a connection string")]
    [InlineData("FUNCTIONS_MASTER_KEY", "")]
    [InlineData("FUNCTIONS_MASTER_KEY", "too-short")]
    [InlineData("FUNCTIONS_HTTP_PORT", "seventy")]
    [InlineData("FUNCTIONS_HTTP_PORT", "70000")]
    [InlineData("FUNCTIONS_HOST_ID", "Not A Host Id")]
    public async Task A_missing_or_bad_setting_stops_start_up_with_the_settings_name(string setting, string value)
    {
        var failure = await StartUpFailure(new Dictionary<string, string?> { [setting] = value });

        Assert.Contains(setting, failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_short_host_key_stops_start_up_with_its_setting_name()
    {
        var failure = await StartUpFailure(new Dictionary<string, string?> { ["FUNCTIONS_HOST_KEYS:ops"] = "short" });

        Assert.Contains("FUNCTIONS_HOST_KEYS__ops", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_host_json_queue_setting_stops_start_up_naming_it()
    {
        var hostJson = """{ "version": "2.0", "extensions": { "queues": { "batchSize": 100 } } }""";

        var failure = await StartUpFailure(new Dictionary<string, string?>(), hostJson);

        Assert.Contains("extensions:queues:BatchSize", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_setting_is_refused_as_an_options_validation_failure_before_anything_listens()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            TestFunctionApp.StartAsync(Storage, settings: new Dictionary<string, string?> { ["FUNCTIONS_MASTER_KEY"] = "" }));

        Assert.Contains(failure.Failures, f => f.StartsWith("FUNCTIONS_MASTER_KEY:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Host_json_logging_log_levels_set_the_apps_log_levels()
    {
        var hostJson = """{ "version": "2.0", "logging": { "logLevel": { "default": "Warning", "DecentCloud.Noisy": "Error" } } }""";
        await using var app = await TestFunctionApp.StartAsync(Storage, hostJson: hostJson);

        var factory = app.Services.GetRequiredService<ILoggerFactory>();

        Assert.False(factory.CreateLogger("DecentCloud.Other").IsEnabled(LogLevel.Information));
        Assert.True(factory.CreateLogger("DecentCloud.Other").IsEnabled(LogLevel.Warning));
        Assert.False(factory.CreateLogger("DecentCloud.Noisy.Part").IsEnabled(LogLevel.Warning));
    }

    [Fact]
    public void Local_settings_values_are_read_with_double_underscores_as_sections_and_environment_variables_win()
    {
        var root = Directory.CreateTempSubdirectory("dc-settings-");
        try
        {
            var only = $"DC_TEST_ONLY_IN_FILE_{Guid.NewGuid():N}";
            var both = $"DC_TEST_IN_BOTH_{Guid.NewGuid():N}";
            File.WriteAllText(Path.Combine(root.FullName, "host.json"), """{ "version": "2.0" }""");
            File.WriteAllText(Path.Combine(root.FullName, "local.settings.json"), $$"""
                { "IsEncrypted": false, "Values": { "{{only}}": "from-file", "{{both}}": "from-file", "Section__Key": "nested", "Number": 7 }, "Host": { "LocalHttpPort": 7123 } }
                """);
            Environment.SetEnvironmentVariable(both, "from-environment");

            var configuration = new ConfigurationBuilder().Add(LocalSettings.Load(root.FullName)!).AddEnvironmentVariables().Build();

            Assert.Equal("from-file", configuration[only]);
            Assert.Equal("from-environment", configuration[both]);
            Assert.Equal("nested", configuration["Section:Key"]);
            Assert.Equal("7", configuration["Number"]);
            Assert.Equal("7123", configuration[FunctionHostOptions.PortSetting]);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public void Local_settings_are_created_from_the_sample_when_missing_and_never_overwritten()
    {
        var root = Directory.CreateTempSubdirectory("dc-settings-");
        try
        {
            File.Copy(Path.Combine(RepositoryRoot.Path, "local.settings.sample.json"), Path.Combine(root.FullName, LocalSettings.SampleFileName));

            var note = LocalSettings.EnsureCreated(root.FullName);
            File.WriteAllText(Path.Combine(root.FullName, LocalSettings.FileName), """{ "Values": { "Edited": "by the developer" } }""");
            var second = LocalSettings.EnsureCreated(root.FullName);

            Assert.NotNull(note);
            Assert.Null(second);
            Assert.Contains("by the developer", File.ReadAllText(Path.Combine(root.FullName, LocalSettings.FileName)), StringComparison.Ordinal);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_sample_settings_hold_every_setting_the_host_reads_and_they_pass_validation()
    {
        var root = Directory.CreateTempSubdirectory("dc-sample-");
        File.Copy(Path.Combine(RepositoryRoot.Path, "local.settings.sample.json"), Path.Combine(root.FullName, LocalSettings.FileName));
        var sample = new ConfigurationBuilder().Add(LocalSettings.Load(root.FullName)!).Build();
        root.Delete(recursive: true);
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(sample);
        services.AddSettings<StorageOptions>();
        services.AddSettings<FunctionHostOptions>();
        services.AddSettings<DecentCloud.Functions.Platform.Http.FunctionKeysOptions>();
        using var provider = services.BuildServiceProvider();

        Assert.Equal("UseDevelopmentStorage=true", provider.GetRequiredService<IOptions<StorageOptions>>().Value.ConnectionString);
        Assert.Equal(7071, provider.GetRequiredService<IOptions<FunctionHostOptions>>().Value.Port);
        Assert.Equal("127.0.0.1", provider.GetRequiredService<IOptions<FunctionHostOptions>>().Value.Address);
        Assert.NotEmpty(provider.GetRequiredService<IOptions<DecentCloud.Functions.Platform.Http.FunctionKeysOptions>>().Value.MasterKey);
    }

    [Fact]
    public async Task The_real_app_process_exits_with_the_missing_settings_name()
    {
        var root = Directory.CreateTempSubdirectory("dc-process-");
        try
        {
            File.Copy(Path.Combine(RepositoryRoot.Path, "host.json"), Path.Combine(root.FullName, "host.json"));
            var app = Path.Combine(AppContext.BaseDirectory, "DecentCloud.Functions.dll");
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(app);
            start.Environment["AzureWebJobsScriptRoot"] = root.FullName;
            start.Environment["AzureWebJobsStorage"] = null;
            start.Environment["FUNCTIONS_MASTER_KEY"] = TestKeys.Master;
            start.Environment["FUNCTIONS_HTTP_PORT"] = "0";

            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

            Assert.NotEqual(0, process.ExitCode);
            Assert.Contains("AzureWebJobsStorage", await output + await errors, StringComparison.Ordinal);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }
}
