using System.Collections.Concurrent;
using DecentCloud.Agent;
using DecentCloud.Shared;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using AgentProgram = DecentCloud.Agent.Program;

namespace DecentCloud.Tests.Agent;

// One class, so these tests run one after another: two of them set DC_AGENT_ variables, which are process-wide.
public sealed class AgentSkeletonTests
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
        using var config = TempConfig.Write("""{ "api_base_url": "ftp://provider.example/api" }""");

        var run = await RunToEnd("--config", config.Path);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("api_base_url must be an absolute http:// or https:// URL", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(run.Logs, log => log.EventId == 1);
    }

    [Fact]
    public async Task Heartbeat_slower_than_the_online_window_is_refused_with_the_setting_name()
    {
        using var config = TempConfig.Write("""{ "heartbeat_interval_seconds": 300 }""");

        var run = await RunToEnd("--config", config.Path);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("heartbeat_interval_seconds must be between 1 and 299 seconds; got 300", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Misspelled_setting_is_refused_by_name_instead_of_ignored()
    {
        using var config = TempConfig.Write("""{ "poll_intervall_seconds": 5 }""");

        var run = await RunToEnd("--config", config.Path);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("'poll_intervall_seconds'", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("is not a dc-agent setting", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Interval_that_is_not_a_number_is_refused_with_the_setting_name()
    {
        using var config = TempConfig.Write("""{ "poll_interval_seconds": "soon" }""");

        var run = await RunToEnd("--config", config.Path);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("'soon' at 'poll_interval_seconds'", run.Stderr, StringComparison.Ordinal);
        // The whole exception goes to the log, not only its message.
        Assert.Contains(run.Logs, log => log.Exception is InvalidOperationException { InnerException: not null });
    }

    [Fact]
    public async Task Missing_config_file_is_reported_with_its_path()
    {
        var path = Path.Combine(Path.GetTempPath(), $"dc-agent-missing-{Guid.NewGuid():N}.json");

        var run = await RunToEnd("--config", path);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(path, run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_file_that_is_not_valid_json_stops_the_agent_instead_of_falling_back_to_defaults()
    {
        using var config = TempConfig.Write("""{ "poll_interval_seconds": 5,, }""");

        var run = await RunToEnd("--config", config.Path);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"cannot read the config file: Failed to load configuration from file '{config.Path}'", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_apply_when_nothing_is_configured()
    {
        using var host = AgentProgram.Create(configPath: null, QuietLogging(new LogCapture()));

        var options = host.Services.GetRequiredService<IOptions<AgentOptions>>().Value;

        Assert.Equal(new Uri("http://127.0.0.1:7071/api"), options.ApiBaseUrl);
        Assert.Equal(TimeSpan.FromSeconds(30), options.PollInterval);
        Assert.Equal(TimeSpan.FromSeconds(60), options.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromSeconds(300), options.HealthCheckInterval);
    }

    [Fact]
    public void Environment_variables_override_the_config_file()
    {
        using var config = TempConfig.Write("""{ "api_base_url": "https://api.decent-cloud.example/api", "poll_interval_seconds": 30 }""");
        Environment.SetEnvironmentVariable("DC_AGENT_POLL_INTERVAL_SECONDS", "7");
        try
        {
            using var host = AgentProgram.Create(config.Path, QuietLogging(new LogCapture()));

            var options = host.Services.GetRequiredService<IOptions<AgentOptions>>().Value;

            Assert.Equal(TimeSpan.FromSeconds(7), options.PollInterval);
            Assert.Equal(new Uri("https://api.decent-cloud.example/api"), options.ApiBaseUrl);
        }
        finally
        {
            Environment.SetEnvironmentVariable("DC_AGENT_POLL_INTERVAL_SECONDS", null);
        }
    }

    [Fact]
    public void Bad_environment_variable_is_refused_with_the_setting_name()
    {
        Environment.SetEnvironmentVariable("DC_AGENT_HEALTH_CHECK_INTERVAL_SECONDS", "0");
        try
        {
            using var host = AgentProgram.Create(configPath: null, QuietLogging(new LogCapture()));

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
        var samplePath = Path.Combine(AppContext.BaseDirectory, "dc-agent.sample.json");
        var sample = new ConfigurationBuilder().AddJsonFile(samplePath).Build();

        Assert.Equal(
            AgentOptions.Keys.Order(StringComparer.OrdinalIgnoreCase),
            sample.GetChildren().Select(section => section.Key).Order(StringComparer.OrdinalIgnoreCase));

        using var host = AgentProgram.Create(samplePath, QuietLogging(new LogCapture()));
        var options = host.Services.GetRequiredService<IOptions<AgentOptions>>().Value;
        Assert.True(options.ApiBaseUrl.IsLoopback, "the sample must point at a local API");
    }

    [Fact]
    public async Task Agent_says_on_every_poll_that_no_provisioners_are_configured_and_stops_cleanly_on_cancellation()
    {
        var logs = new LogCapture();
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2025-03-01T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var stop = new CancellationTokenSource();
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var running = AgentProgram.RunAsync([], stdout, stderr, stop.Token, builder =>
        {
            QuietLogging(logs)(builder);
            builder.Services.AddSingleton<TimeProvider>(clock);
        });

        await logs.WaitFor(NoProvisionersEvent, count: 1);
        Assert.Contains(logs.All, log => log.EventId == StartedEvent && log.Message.Contains("poll every 30 s", StringComparison.Ordinal));

        clock.Advance(TimeSpan.FromSeconds(30));
        await logs.WaitFor(NoProvisionersEvent, count: 2);
        clock.Advance(TimeSpan.FromSeconds(30));
        await logs.WaitFor(NoProvisionersEvent, count: 3);
        Assert.False(running.IsCompleted);

        await stop.CancelAsync();
        var exitCode = await running.WaitAsync(Patience);

        Assert.Equal(0, exitCode);
        Assert.Empty(stderr.ToString());
        Assert.Contains(logs.All, log => log.EventId == StoppedEvent);
        Assert.DoesNotContain(logs.All, log => log.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task A_failed_loop_stops_the_agent_with_exit_code_one()
    {
        var logs = new LogCapture();
        var stderr = new StringWriter();

        var exitCode = await AgentProgram.RunAsync([], new StringWriter(), stderr, CancellationToken.None, builder =>
        {
            QuietLogging(logs)(builder);
            builder.Services.AddHostedService<FailingLoop>();
        }).WaitAsync(Patience);

        Assert.Equal(1, exitCode);
        Assert.Contains("stopped after a failure", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains(logs.All, log => log.Exception is InvalidOperationException { Message: FailingLoop.Reason });
    }

    private const int StartedEvent = 1;
    private const int NoProvisionersEvent = 2;
    private const int StoppedEvent = 3;

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

    private sealed class TempConfig : IDisposable
    {
        private TempConfig(string path) => Path = path;

        public string Path { get; }

        public static TempConfig Write(string json)
        {
            var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"dc-agent-{Guid.NewGuid():N}.json");
            File.WriteAllText(path, json);
            return new TempConfig(path);
        }

        public void Dispose() => File.Delete(Path);
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
