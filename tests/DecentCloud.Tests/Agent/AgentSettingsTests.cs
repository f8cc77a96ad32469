using System.Collections.Concurrent;
using DecentCloud.Agent;
using DecentCloud.Shared;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using AgentProgram = DecentCloud.Agent.Program;

namespace DecentCloud.Tests.Agent;

// One class, so these tests run one after another: some set DC_AGENT_ variables, which are process-wide.
public sealed class AgentSettingsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Help_prints_the_usage_with_every_setting_and_exits_zero()
    {
        var run = await RunToEnd("--help");

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("Usage: dc-agent", run.Stdout, StringComparison.Ordinal);
        Assert.All(AgentOptions.Keys, key => Assert.Contains(key, run.Stdout, StringComparison.Ordinal));
        Assert.Empty(run.Stderr);
    }

    [Fact]
    public async Task Version_prints_the_build_version_and_exits_zero()
    {
        var run = await RunToEnd("--version");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal($"dc-agent {BuildInfo.Version}", run.Stdout.Trim());
        Assert.StartsWith("0.1.0", BuildInfo.Version, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_argument_is_refused_as_a_usage_error()
    {
        var run = await RunToEnd("--provision-everything");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("unknown argument '--provision-everything'", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public async Task Config_option_without_a_path_is_refused_as_a_usage_error()
    {
        var run = await RunToEnd("--config");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--config needs a file path", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_api_url_stops_the_agent_with_the_setting_name()
    {
        using var config = TempConfig.Write("""api_base_url = "ftp://provider.example/api" """);

        var run = await RunToEnd("run", "--config", config.Path);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("api_base_url must be an absolute http:// or https:// URL", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(run.Logs, log => log.EventId == StartedEvent);
    }

    [Fact]
    public async Task Heartbeat_slower_than_the_online_window_is_refused_with_the_setting_name()
    {
        using var config = TempConfig.Write("heartbeat_interval_seconds = 300");

        var run = await RunToEnd("--config", config.Path);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("heartbeat_interval_seconds must be between 1 and 299 seconds; got 300", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Misspelled_setting_is_refused_by_name_instead_of_ignored()
    {
        using var config = TempConfig.Write("poll_intervall_seconds = 5");

        var run = await RunToEnd("--config", config.Path);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("'poll_intervall_seconds'", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("is not a dc-agent setting", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Misspelled_setting_of_the_manual_section_is_refused_by_name()
    {
        using var config = TempConfig.Write("[manual]\nnotify_comand = [\"/bin/true\"]");

        var run = await RunToEnd("--config", config.Path);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("'manual.notify_comand' is not a setting of the manual provisioner", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_provider_key_is_refused_with_the_setting_name()
    {
        using var config = TempConfig.Write("", withProvider: false);

        var run = await RunToEnd("--config", config.Path);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("provider_pubkey must be the provider's public key", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Interval_that_is_not_a_number_is_refused_with_the_setting_name()
    {
        using var config = TempConfig.Write("""poll_interval_seconds = "soon" """);

        var run = await RunToEnd("--config", config.Path);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("'soon' at 'poll_interval_seconds'", run.Stderr, StringComparison.Ordinal);
        // The whole exception goes to the log, not only its message.
        Assert.Contains(run.Logs, log => log.Exception is InvalidOperationException { InnerException: not null });
    }

    [Fact]
    public async Task Missing_config_file_is_reported_with_its_path()
    {
        var path = Path.Combine(Path.GetTempPath(), $"dc-agent-missing-{Guid.NewGuid():N}.toml");

        var run = await RunToEnd("--config", path);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(path, run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_file_that_is_not_valid_toml_stops_the_agent_instead_of_falling_back_to_defaults()
    {
        using var config = TempConfig.Write("poll_interval_seconds = = 5");

        var run = await RunToEnd("--config", config.Path);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"cannot read the config file: The config file '{config.Path}' is not valid TOML", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_apply_when_the_config_sets_only_the_provider()
    {
        using var config = TempConfig.Write("");
        using var host = AgentProgram.Create(config.Path, QuietLogging(new LogCapture()));

        var options = host.Services.GetRequiredService<IOptions<AgentOptions>>().Value;

        Assert.Equal(new Uri("http://127.0.0.1:7071/api"), options.ApiBaseUrl);
        Assert.Equal(TimeSpan.FromSeconds(30), options.PollInterval);
        Assert.Equal(TimeSpan.FromSeconds(60), options.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromSeconds(300), options.HealthCheckInterval);
        Assert.Equal("manual", options.Provisioner);
        // Relative paths are taken from the config file's folder, not the current directory.
        Assert.Equal(Path.Combine(Path.GetDirectoryName(config.Path)!, "agent.key"), options.AgentKeyFile);
        Assert.Equal(Path.Combine(Path.GetDirectoryName(config.Path)!, "dc-agent-state.json"), options.StateFile);
    }

    [Fact]
    public void Toml_tables_and_arrays_bind_to_the_manual_provisioners_settings()
    {
        using var config = TempConfig.Write("""
            [manual]
            notify_command = ["/usr/bin/logger", "-t", "dc-agent"]
            notify_webhook = "https://hooks.example.com/dc"
            health_check_timeout_seconds = 3
            """);
        using var host = AgentProgram.Create(config.Path, QuietLogging(new LogCapture()));

        var manual = host.Services.GetRequiredService<IOptions<AgentOptions>>().Value.Manual;

        Assert.Equal(["/usr/bin/logger", "-t", "dc-agent"], manual.NotifyCommand);
        Assert.Equal(new Uri("https://hooks.example.com/dc"), manual.NotifyWebhook);
        Assert.Equal(3, manual.HealthCheckTimeoutSeconds);
    }

    [Fact]
    public void Environment_variables_override_the_config_file()
    {
        using var config = TempConfig.Write("""
            api_base_url = "https://api.decent-cloud.example/api"
            poll_interval_seconds = 30
            [manual]
            notify_webhook = "https://hooks.example.com/file"
            """);
        Environment.SetEnvironmentVariable("DC_AGENT_POLL_INTERVAL_SECONDS", "7");
        Environment.SetEnvironmentVariable("DC_AGENT_MANUAL__NOTIFY_WEBHOOK", "https://hooks.example.com/env");
        try
        {
            using var host = AgentProgram.Create(config.Path, QuietLogging(new LogCapture()));

            var options = host.Services.GetRequiredService<IOptions<AgentOptions>>().Value;

            Assert.Equal(TimeSpan.FromSeconds(7), options.PollInterval);
            Assert.Equal(new Uri("https://api.decent-cloud.example/api"), options.ApiBaseUrl);
            Assert.Equal(new Uri("https://hooks.example.com/env"), options.Manual.NotifyWebhook);
        }
        finally
        {
            Environment.SetEnvironmentVariable("DC_AGENT_POLL_INTERVAL_SECONDS", null);
            Environment.SetEnvironmentVariable("DC_AGENT_MANUAL__NOTIFY_WEBHOOK", null);
        }
    }

    [Fact]
    public void Bad_environment_variable_is_refused_with_the_setting_name()
    {
        using var config = TempConfig.Write("");
        Environment.SetEnvironmentVariable("DC_AGENT_HEALTH_CHECK_INTERVAL_SECONDS", "0");
        try
        {
            using var host = AgentProgram.Create(config.Path, QuietLogging(new LogCapture()));

            var refused = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<AgentOptions>>().Value);

            Assert.Contains("health_check_interval_seconds must be between 1 and 86400 seconds; got 0", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("DC_AGENT_HEALTH_CHECK_INTERVAL_SECONDS", null);
        }
    }

    [Fact]
    public void Sample_config_sets_every_setting_with_values_the_agent_accepts()
    {
        var samplePath = Path.Combine(AppContext.BaseDirectory, "dc-agent.sample.toml");
        var sample = new ConfigurationBuilder().Add(new DecentCloud.Agent.Configuration.TomlConfigurationSource(samplePath)).Build();

        // Every setting, and the manual provisioner's section; the other provisioners need real infrastructure, so
        // each has its own example file under agent/examples/ instead (their tests check those).
        var expected = AgentOptions.Keys.Where(key => DecentCloud.Agent.Provisioners.ProvisionerKinds.Find(key) is null || key == "manual");
        Assert.Equal(
            expected.Order(StringComparer.OrdinalIgnoreCase),
            sample.GetChildren().Select(section => section.Key).Order(StringComparer.OrdinalIgnoreCase));

        using var host = AgentProgram.Create(samplePath, QuietLogging(new LogCapture()));
        var options = host.Services.GetRequiredService<IOptions<AgentOptions>>().Value;
        Assert.True(options.ApiBaseUrl.IsLoopback, "the sample must point at a local API");
    }

    [Fact]
    public async Task A_failed_loop_stops_the_agent_with_exit_code_one()
    {
        var logs = new LogCapture();
        var stderr = new StringWriter();
        using var config = TempConfig.Write("api_base_url = \"http://127.0.0.1:1/api\"");

        var exitCode = await AgentProgram.RunAsync(["run", "--config", config.Path], new StringWriter(), stderr, CancellationToken.None, builder =>
        {
            QuietLogging(logs)(builder);
            builder.Services.AddHostedService<FailingLoop>();
        }).WaitAsync(Patience);

        Assert.Equal(1, exitCode);
        Assert.Contains("stopped after a failure", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains(logs.All, log => log.Exception is InvalidOperationException { Message: FailingLoop.Reason });
    }

    private const int StartedEvent = 1;

    private static async Task<AgentRun> RunToEnd(params string[] args)
    {
        var logs = new LogCapture();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exitCode = await AgentProgram.RunAsync(args, stdout, stderr, CancellationToken.None, QuietLogging(logs)).WaitAsync(Patience);
        return new AgentRun(exitCode, stdout.ToString(), stderr.ToString(), logs.All);
    }

    private static Action<HostApplicationBuilder> QuietLogging(LogCapture logs) => builder =>
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
    };

    private sealed record AgentRun(int ExitCode, string Stdout, string Stderr, IReadOnlyList<LogEntry> Logs);

    private sealed record LogEntry(string Category, int EventId, LogLevel Level, string Message, Exception? Exception);

    private sealed class LogCapture : ILoggerProvider
    {
        private readonly ConcurrentQueue<LogEntry> _entries = new();

        public IReadOnlyList<LogEntry> All => [.. _entries];

        public async Task WaitFor(int eventId, int count)
        {
            var deadline = DateTime.UtcNow + Patience;
            while (_entries.Count(entry => entry.EventId == eventId) < count)
            {
                if (DateTime.UtcNow > deadline)
                {
                    Assert.Fail($"expected {count} log events with id {eventId} within {Patience}; logged: "
                        + string.Join(" | ", _entries.Select(entry => $"[{entry.EventId}] {entry.Message}")));
                }
                await Task.Delay(10);
            }
        }

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue(new LogEntry(category, eventId.Id, logLevel, formatter(state, exception), exception));
        }
    }

    /// <summary>A TOML config in its own folder, with a provider key and a fresh agent key file beside it.</summary>
    private sealed class TempConfig : IDisposable
    {
        private readonly DirectoryInfo folder;

        private TempConfig(DirectoryInfo folder, string path)
        {
            this.folder = folder;
            Path = path;
        }

        public string Path { get; }

        public static TempConfig Write(string toml, bool withProvider = true)
        {
            var folder = Directory.CreateTempSubdirectory("dc-agent-config-");
            var path = System.IO.Path.Combine(folder.FullName, "dc-agent.toml");
            AgentIdentity.CreateKeyFile(System.IO.Path.Combine(folder.FullName, "agent.key"));
            var provider = withProvider ? $"provider_pubkey = \"{DecentCloud.Shared.Signing.Ed25519phKey.Generate().PublicKeyHex}\"\n" : "";
            File.WriteAllText(path, provider + toml + "\n");
            return new TempConfig(folder, path);
        }

        public void Dispose() => folder.Delete(recursive: true);
    }

    private sealed class FailingLoop : BackgroundService
    {
        public const string Reason = "provisioner crashed";

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await Task.Yield();
            throw new InvalidOperationException(Reason);
        }
    }
}
