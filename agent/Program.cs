using DecentCloud.Agent.Api;
using DecentCloud.Agent.Commands;
using DecentCloud.Agent.Configuration;
using DecentCloud.Agent.Provisioners;
using DecentCloud.Agent.State;
using DecentCloud.Shared;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DecentCloud.Agent;

/// <summary>dc-agent, the daemon Decent Cloud providers run: its commands, its settings and its services.</summary>
internal static class Program
{
    public const string EnvironmentPrefix = "DC_AGENT_";

    public const string Usage = """
        Usage: dc-agent init --config <file> --provider <provider public key> [--api <url>] [--key-file <file>]
               dc-agent register --config <file> --provider-key-file <file> [--label <text>] [--days <1-365>]
               dc-agent run [--config <file>]
               dc-agent status --config <file>
               dc-agent doctor --config <file>
               dc-agent manual complete <contract> --host <address> --port <ssh port> --user <user> --password-file <file> [--external-id <id>] --config <file>
               dc-agent manual fail <contract> --reason <text> --config <file>
               dc-agent manual terminated <contract> [--message <text>] --config <file>
               dc-agent keygen <key-file>
               dc-agent request <METHOD> <URL> --key-file <key-file> [--data <json> | --data @<file>]
               dc-agent --help | --version

        dc-agent is the daemon a Decent Cloud provider runs next to its servers: it takes accepted and paid
        contracts, has them provisioned, seals the credentials to the renter's key, reports health, and
        terminates servers whose contract ended. 'run' works until Ctrl-C or SIGTERM (docs/agent.md).

        init       writes a new agent key (mode 600) and a config file for the provider's key
        register   the provider delegates to this agent, signing with the provider's own key file
        run        the daemon (also what 'dc-agent [--config <file>]' without a command does)
        status     the configuration, whether the API answers and the delegation is valid, the last heartbeat, the contracts
        doctor     checks the set-up: key file, state file, API, delegation, the provisioner's own set-up
        manual     reports what a person did for the Manual provisioner

        Settings (TOML config file; an environment variable DC_AGENT_<KEY IN CAPITALS> overrides the file,
        DC_AGENT_MANUAL__NOTIFY_WEBHOOK for a key of [manual]):
          api_base_url                    Decent Cloud API base URL        (default http://127.0.0.1:7071/api)
          provider_pubkey                 the provider's public key, hex   (required)
          agent_key_file                  the agent's key file             (default agent.key beside the config)
          state_file                      where the agent keeps its state  (default dc-agent-state.json beside the config)
          provisioner                     manual                           (default manual)
          poll_interval_seconds           how often to poll for work       (default 30, 1 to 3600)
          heartbeat_interval_seconds      how often to send a heartbeat    (default 60, 1 to 299)
          health_check_interval_seconds   how often to check contracts     (default 300, 1 to 86400)
          [manual] notify_command, notify_webhook, health_check_timeout_seconds
          [docker] endpoint, public_host, ssh_port_range, ... and [docker.offerings."<id>"] image, cpus, memory_mb, ...
          [proxmox] api_url, token_id, token_secret(_file), fingerprint, node; [proxmox.offerings."<id>"] template_vmid...
          [hetzner] token_file or token, api_base_url, request_timeout_seconds, max_retries, action_timeout_seconds; [hetzner.offerings."<id>"] server_type, image, location
          [Logging.LogLevel] Default = "Debug" and the like

        Exit codes: 0 done (or stopped cleanly), 1 invalid settings or a failure, 2 bad command line.
        """;

    public static Task<int> Main(string[] args) => RunAsync(args, Console.Out, Console.Error, CancellationToken.None);

    /// <param name="configure">Lets tests replace services (clock, loggers, HTTP handler) before the host is built.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr,
        CancellationToken cancellationToken, Action<HostApplicationBuilder>? configure = null)
    {
        switch (args)
        {
            case ["keygen", .. var rest]:
                return await SignedRequestCommand.KeygenAsync(rest, stdout, stderr);
            case ["request", .. var rest]:
                return await SignedRequestCommand.RequestAsync(rest, stdout, stderr, TimeProvider.System, cancellationToken);
            case ["init", .. var rest]:
                return await AgentCommands.InitAsync(CommandArgs.Parse(rest), stdout, stderr);
            case ["register", .. var rest]:
                return await AgentCommands.RegisterAsync(CommandArgs.Parse(rest), stdout, stderr, TimeProvider.System, cancellationToken);
            case ["status", .. var rest]:
                return await AgentCommands.StatusAsync(CommandArgs.Parse(rest), stdout, stderr, configure, cancellationToken);
            case ["doctor", .. var rest]:
                return await AgentCommands.DoctorAsync(CommandArgs.Parse(rest), stdout, stderr, configure, cancellationToken);
            case ["manual", .. var rest]:
                return await AgentCommands.ManualAsync(rest, stdout, stderr, configure, cancellationToken);
            case ["run", .. var rest]:
                args = rest;
                break;
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

    /// <summary>The daemon's host: settings, logging, the API client, the state file, the provisioner and the loop.</summary>
    public static IHost Create(string? configPath, Action<HostApplicationBuilder>? configure = null)
    {
        // No defaults: dc-agent reads only its own file and DC_AGENT_ variables, not appsettings.json or DOTNET_*.
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        AddConfiguration(builder.Configuration, configPath);

        builder.Logging
            .AddConfiguration(builder.Configuration.GetSection(AgentOptions.LoggingSection))
            .AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.UseUtcTimestamp = true;
                console.TimestampFormat = "yyyy-MM-ddTHH:mm:ssZ ";
            });
        builder.Services.Configure<ConsoleLifetimeOptions>(lifetime => lifetime.SuppressStatusMessages = true);

        AddAgentServices(builder.Services, builder.Configuration, configPath);
        builder.Services.AddHostedService<AgentLoop>();

        configure?.Invoke(builder);
        return builder.Build();
    }

    public static void AddConfiguration(IConfigurationBuilder configuration, string? configPath)
    {
        if (configPath is not null)
        {
            configuration.Add(new TomlConfigurationSource(Path.GetFullPath(configPath)));
        }
        configuration.AddEnvironmentVariables(EnvironmentPrefix);
    }

    /// <summary>Everything but the loop: also what <c>status</c>, <c>doctor</c> and <c>manual</c> use.</summary>
    public static void AddAgentServices(IServiceCollection services, IConfiguration configuration, string? configPath)
    {
        var baseDirectory = configPath is null ? Directory.GetCurrentDirectory() : Path.GetDirectoryName(Path.GetFullPath(configPath))!;

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(configuration);
        services.AddOptions<AgentOptions>().Bind(configuration).PostConfigure(o => o.ResolvePaths(baseDirectory)).ValidateOnStart();
        services.AddSingleton(new AgentConfigFolder(baseDirectory));
        services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>();

        services.AddSingleton(sp => AgentIdentity.Load(sp.GetRequiredService<IOptions<AgentOptions>>().Value.AgentKeyFile));
        services.AddSingleton(sp => new AgentStateStore(sp.GetRequiredService<IOptions<AgentOptions>>().Value.StateFile));
        services.TryAddKeyedSingleton<HttpMessageHandler>(ApiHandlerKey, (_, _) => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        services.AddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            var identity = sp.GetRequiredService<AgentIdentity>();
            var http = AgentApiClient.CreateHttpClient(settings.ApiBaseUrl, identity.Key, sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredKeyedService<HttpMessageHandler>(ApiHandlerKey));
            return new AgentApiClient(http, settings.ProviderPubkey, identity.AgentPubkey);
        });
        services.AddSingleton(sp => CreateProvisioners(sp, configuration));
        services.AddSingleton(sp => new AgentWorker(
            sp.GetRequiredService<AgentApiClient>(),
            sp.GetRequiredService<AgentStateStore>(),
            sp.GetRequiredService<ProvisionerSet>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<AgentWorker>()));
    }

    /// <summary>Makes each provisioner in use (the default and every one with a section) and maps the offerings they name.</summary>
    private static ProvisionerSet CreateProvisioners(IServiceProvider services, IConfiguration configuration)
    {
        var defaultName = services.GetRequiredService<IOptions<AgentOptions>>().Value.Provisioner;
        var kinds = ProvisionerKinds.InUse(configuration, defaultName);
        var made = kinds.ToDictionary(kind => kind.Name, kind => kind.Create(services, configuration.GetSection(kind.Name)), StringComparer.Ordinal);
        var kindByOffering = kinds
            .SelectMany(kind => ProvisionerKinds.OfferingIds(configuration, kind).Select(offering => (offering, kind.Name)))
            .ToDictionary(pair => pair.offering, pair => pair.Name, StringComparer.Ordinal);
        return new ProvisionerSet(made[defaultName], [.. made.Values], kindByOffering);
    }

    /// <summary>The handler under the signing handler; tests put an in-memory one here.</summary>
    public const string ApiHandlerKey = "dc-agent-api";

    public static string Describe(Exception ex) =>
        ex.InnerException is null ? ex.Message : $"{ex.Message} {Describe(ex.InnerException)}";
}
