using DecentCloud.Shared;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DecentCloud.Agent;

/// <summary>dc-agent, the daemon Decent Cloud providers run: its command line, its settings and its services.</summary>
internal static class Program
{
    public const string EnvironmentPrefix = "DC_AGENT_";

    public const string Usage = """
        Usage: dc-agent [--config <path>]
               dc-agent --help | --version
               dc-agent keygen <key-file>
               dc-agent request <METHOD> <URL> --key-file <key-file> [--data <json> | --data @<file>]

        dc-agent is the daemon a Decent Cloud provider runs next to its servers. It runs until
        Ctrl-C or SIGTERM. Provisioning is not implemented yet: the agent validates its settings
        and reports on each poll that no provisioners are configured.

        keygen writes a new signing key to a file and prints its public key; request sends one request
        signed with it (docs/signing.md) and prints the answer: a way to call the API by hand.

        Options:
          -c, --config <path>   read settings from this JSON file (see dc-agent.sample.json)
          -h, --help            print this help and exit
              --version         print the version and exit

        Settings (keys in the config file; an environment variable DC_AGENT_<KEY IN CAPITALS>
        overrides the file, e.g. DC_AGENT_POLL_INTERVAL_SECONDS=10):
          api_base_url                    Decent Cloud API base URL     (default http://127.0.0.1:7071/api)
          poll_interval_seconds           how often to poll for work    (default 30, 1 to 3600)
          heartbeat_interval_seconds      how often to send a heartbeat (default 60, 1 to 299)
          health_check_interval_seconds   how often to check contracts  (default 300, 1 to 86400)
          Logging                         log levels, e.g. Logging:LogLevel:Default = Debug

        Exit codes: 0 stopped cleanly or printed help/version, 1 invalid settings or a failure, 2 bad command line.
        """;

    public static Task<int> Main(string[] args) => RunAsync(args, Console.Out, Console.Error, CancellationToken.None);

    /// <param name="configure">Lets tests replace services (clock, loggers) before the host is built.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr,
        CancellationToken cancellationToken, Action<HostApplicationBuilder>? configure = null)
    {
        // Tools for calling the API by hand, beside the daemon itself.
        switch (args)
        {
            case ["keygen", .. var rest]:
                return await SignedRequestCommand.KeygenAsync(rest, stdout, stderr);
            case ["request", .. var rest]:
                return await SignedRequestCommand.RequestAsync(rest, stdout, stderr, TimeProvider.System, cancellationToken);
        }

        var command = AgentCommandLine.Parse(args);
        switch (command.Action)
        {
            case AgentAction.Help:
                await stdout.WriteLineAsync(Usage);
                return 0;
            case AgentAction.Version:
                await stdout.WriteLineAsync($"dc-agent {BuildInfo.Version}");
                return 0;
            case AgentAction.Invalid:
                await stderr.WriteLineAsync($"dc-agent: {command.Error}. Try 'dc-agent --help'.");
                return 2;
        }

        IHost host;
        try
        {
            host = Create(command.ConfigPath, configure);
        }
        catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException)
        {
            await stderr.WriteLineAsync($"dc-agent: cannot read the config file: {Describe(ex)}");
            return 1;
        }

        using (host)
        {
            try
            {
                await host.StartAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 0;
            }
            catch (Exception ex)
            {
                // The host has already logged the whole exception; the provider also gets one line saying what to fix.
                await stderr.WriteLineAsync(ex is OptionsValidationException
                    ? $"dc-agent: invalid settings: {ex.Message}"
                    : $"dc-agent: could not start: {Describe(ex)}");
                return 1;
            }

            await host.WaitForShutdownAsync(cancellationToken);

            // A failed loop stops the host (logged by it) rather than the process, so the exit code has to say so.
            if (host.Services.GetServices<IHostedService>().OfType<BackgroundService>().Any(service => service.ExecuteTask is { IsFaulted: true }))
            {
                await stderr.WriteLineAsync("dc-agent: stopped after a failure; see the log above.");
                return 1;
            }
            return 0;
        }
    }

    public static IHost Create(string? configPath, Action<HostApplicationBuilder>? configure = null)
    {
        // No defaults: dc-agent reads only its own file and DC_AGENT_ variables, not appsettings.json or DOTNET_*.
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });

        if (configPath is not null)
        {
            builder.Configuration.AddJsonFile(Path.GetFullPath(configPath), optional: false, reloadOnChange: false);
        }
        builder.Configuration.AddEnvironmentVariables(EnvironmentPrefix);

        builder.Logging
            .AddConfiguration(builder.Configuration.GetSection("Logging"))
            .AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.UseUtcTimestamp = true;
                console.TimestampFormat = "yyyy-MM-ddTHH:mm:ssZ ";
            });

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddOptions<AgentOptions>().Bind(builder.Configuration).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>();
        builder.Services.AddHostedService<AgentLoop>();

        configure?.Invoke(builder);
        return builder.Build();
    }

    private static string Describe(Exception ex) =>
        ex.InnerException is null ? ex.Message : $"{ex.Message} {Describe(ex.InnerException)}";
}
