using System.Net;
using System.Text.RegularExpressions;
using DecentCloud.FunctionsHost.Admin;
using DecentCloud.FunctionsHost.Configuration;
using DecentCloud.FunctionsHost.Durable;
using DecentCloud.FunctionsHost.Http;
using DecentCloud.FunctionsHost.Queues;
using DecentCloud.FunctionsHost.Storage;
using DecentCloud.FunctionsHost.Timers;
using DecentCloud.FunctionsHost.Worker;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace DecentCloud.FunctionsHost;

/// <summary>
/// The local stand-in for the Azure Functions host (Core Tools cannot be installed where this app is built): it starts
/// the worker of a built isolated-worker app as the Functions host does, speaks the FunctionRpc protocol to it, loads
/// its functions and runs their triggers (HTTP, queues, timers, durable) with the Functions host's semantics. See docs/host.md.
/// </summary>
public sealed partial class LocalFunctionsHost : IAsyncDisposable
{
    private const string LoggedKey = "DecentCloud.FunctionsHost.Logged";

    private readonly WebApplication app;
    private readonly FunctionsWorker worker;
    private readonly TaskHubStarter? durable;
    private readonly ILoggerFactory loggers;
    private readonly ILogger logger;
    private int disposed;

    private LocalFunctionsHost(WebApplication app, FunctionsWorker worker, TaskHubStarter? durable, ILoggerFactory loggers, Uri baseAddress, IReadOnlyList<string> triggers)
    {
        this.app = app;
        this.worker = worker;
        this.durable = durable;
        this.loggers = loggers;
        logger = loggers.CreateLogger<LocalFunctionsHost>();
        BaseAddress = baseAddress;
        Triggers = triggers;
    }

    /// <summary>Where the HTTP triggers answer, e.g. http://127.0.0.1:7071/ (routes start with api/).</summary>
    public Uri BaseAddress { get; }

    /// <summary>One line per function that runs, saying what triggers it.</summary>
    public IReadOnlyList<string> Triggers { get; }

    /// <summary>The task hub of the app's durable functions; null when it has none, or while storage could not be reached to create it.</summary>
    public LocalTaskHub? TaskHub => durable?.Hub;

    /// <summary>True when the host stopped because its worker went away.</summary>
    public bool WorkerLost { get; private set; }

    public static async Task<LocalFunctionsHost> StartAsync(LocalFunctionsHostOptions options, CancellationToken cancellationToken = default)
    {
        var appDirectory = Path.GetFullPath(options.AppDirectory);
        var config = WorkerConfig.Load(appDirectory);
        var settings = HostSettings.Load(appDirectory, config.AppName, new Dictionary<string, string?>(options.Settings, StringComparer.OrdinalIgnoreCase), options.ReadLocalSettings);
        var loggers = CreateLoggers(settings, options.ConfigureLogging);
        var logger = loggers.CreateLogger<LocalFunctionsHost>();
        FunctionsWorker? worker = null;
        WebApplication? app = null;
        TaskHubStarter? durable = null;
        try
        {
            var keys = FunctionKeys.Load(settings.Configuration);
            var queueOptions = QueueHostOptions.Load(settings.Configuration);
            worker = await FunctionsWorker.StartAsync(appDirectory, config, settings.WorkerEnvironment, loggers, cancellationToken);
            (app, var triggers) = Build(worker, settings, keys, queueOptions, loggers, logger);
            durable = await StartTaskHubAsync(app.Services, worker.Functions, settings, loggers, triggers, cancellationToken);
            await app.StartAsync(cancellationToken);

            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.First()
                ?? throw new InvalidOperationException("Kestrel reported no address for the HTTP triggers.");
            var host = new LocalFunctionsHost(app, worker, durable, loggers, new Uri(address.TrimEnd('/') + "/"), triggers);
            host.WatchWorker();
            LogStarted(logger, host.BaseAddress.AbsoluteUri, worker.Functions.Count);
            return host;
        }
        catch (Exception ex)
        {
            LogStartFailed(logger, ex);
            ex.Data[LoggedKey] = true;
            if (app is not null)
            {
                await app.DisposeAsync();
            }

            if (durable is not null)
            {
                await durable.DisposeAsync();
            }

            if (worker is not null)
            {
                await worker.DisposeAsync();
            }

            loggers.Dispose();
            throw;
        }
    }

    /// <summary>Runs the host from the command line until Ctrl-C or SIGTERM: <c>DecentCloud.FunctionsHost [app folder]</c>.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 1 || args is ["--help" or "-h"])
        {
            await Console.Error.WriteLineAsync("usage: DecentCloud.FunctionsHost [folder of a built isolated-worker app; default: the current folder]");
            return 2;
        }

        LocalFunctionsHost host;
        try
        {
            host = await StartAsync(new LocalFunctionsHostOptions { AppDirectory = args.Length == 1 ? args[0] : Directory.GetCurrentDirectory() });
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or TimeoutException or WorkerUnavailableException)
        {
            // A failure after the logging was set up is logged whole already; one before it (no app, a bad host.json) is not.
            if (!ex.Data.Contains(LoggedKey))
            {
                await Console.Error.WriteLineAsync($"The local Functions host could not start: {ex}");
            }

            return 1;
        }

        await using (host)
        {
            await host.app.WaitForShutdownAsync();
            return host.WorkerLost ? 1 : 0;
        }
    }

    /// <summary>Stops the triggers (running invocations are asked to cancel and finish), then the worker.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await app.StopAsync(CancellationToken.None);
        if (durable is not null)
        {
            await durable.DisposeAsync();
        }

        await worker.DisposeAsync();
        await app.DisposeAsync();
        LogStopped(logger);
        loggers.Dispose();
    }

    /// <summary>Console lines with their trace id (as the app's own host writes them), levels from host.json and settings.</summary>
    private static ILoggerFactory CreateLoggers(HostSettings settings, Action<ILoggingBuilder>? configure) =>
        LoggerFactory.Create(logging =>
        {
            logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
            logging.AddFilter("Grpc", LogLevel.Warning);
            logging.AddConfiguration(settings.Configuration.GetSection("Logging"));
            logging.Configure(tracking => tracking.ActivityTrackingOptions = ActivityTrackingOptions.TraceId);
            logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.IncludeScopes = true;
                console.TimestampFormat = "HH:mm:ss.fff ";
            });
            configure?.Invoke(logging);
        });

    /// <summary>The web app of the triggers: the HTTP functions' routes, and a listener per queue and timer function.</summary>
    private static (WebApplication App, List<string> Triggers) Build(
        FunctionsWorker worker,
        HostSettings settings,
        FunctionKeys keys,
        QueueHostOptions queueOptions,
        ILoggerFactory loggers,
        ILogger logger)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddConfiguration(settings.Configuration);
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(ListenAddress(settings.Address), settings.Port));
        builder.Services.AddProblemDetails(problems => problems.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions["traceId"] = System.Diagnostics.Activity.Current?.TraceId.ToHexString() ?? context.HttpContext.TraceIdentifier);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(keys);
        builder.Services.AddSingleton(queueOptions);
        builder.Services.AddSingleton(worker);
        builder.Services.AddSingleton<StorageAccounts>();
        builder.Services.AddSingleton<OutputBindings>();
        builder.Services.AddSingleton<FunctionInvoker>();
        builder.Services.AddSingleton<DurableClientBindings>();
        builder.Services.AddSingleton<HttpFunctionProxy>();
        builder.Services.AddSingleton<OnDemandRuns>();
        builder.Services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<OnDemandRuns>());
        CheckOutputBindings(worker.Functions, logger);
        var triggers = new List<string>();
        triggers.AddRange(AddQueueListeners(builder.Services, worker.Functions, settings, logger));
        triggers.AddRange(AddTimerListeners(builder.Services, worker.Functions, settings, logger));

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        triggers.AddRange(HttpFunctions.Map(app, worker.Functions, settings, keys, logger));
        app.Services.GetRequiredService<OnDemandRuns>().Map(app);
        return (app, triggers);
    }

    /// <summary>
    /// The task hub, when the app has orchestrator or activity functions or a durable client binding: named by host.json's
    /// <c>extensions.durableTask.hubName</c> (a <c>%SETTING%</c> is resolved), in the <c>AzureWebJobsStorage</c> account;
    /// <c>maxGrpcMessageSizeInBytes</c> and <c>grpcHttpClientTimeout</c> there go to the worker's durable client,
    /// <c>maxConcurrentOrchestratorFunctions</c> and <c>maxConcurrentActivityFunctions</c> limit the invocations at once, and
    /// <c>storageProvider</c>'s <c>partitionCount</c>, <c>controlQueueVisibilityTimeout</c> and
    /// <c>workItemQueueVisibilityTimeout</c> to the hub.
    /// </summary>
    private static async Task<TaskHubStarter?> StartTaskHubAsync(IServiceProvider services, IReadOnlyList<FunctionDescriptor> functions, HostSettings settings, ILoggerFactory loggers, List<string> triggers, CancellationToken cancellationToken)
    {
        if (!DurableFunctions.Needed(functions))
        {
            return null;
        }

        var section = settings.Configuration.GetSection($"{HostJson.Section}:extensions:durableTask");
        var hubName = settings.Resolve(section["hubName"] ?? "TestHubName", "durableTask");
        var options = new LocalTaskHubOptions { ConnectionString = settings.StorageConnection(null, "durableTask"), TaskHubName = hubName };
        options.ClientMaxGrpcMessageSizeInBytes = PositiveNumber(section, "maxGrpcMessageSizeInBytes") ?? options.ClientMaxGrpcMessageSizeInBytes;
        options.ClientGrpcHttpClientTimeout = PositiveTimeSpan(section, "grpcHttpClientTimeout") ?? options.ClientGrpcHttpClientTimeout;
        options.MaxConcurrentOrchestratorFunctions = PositiveNumber(section, "maxConcurrentOrchestratorFunctions") ?? options.MaxConcurrentOrchestratorFunctions;
        options.MaxConcurrentActivityFunctions = PositiveNumber(section, "maxConcurrentActivityFunctions") ?? options.MaxConcurrentActivityFunctions;
        var storageProvider = section.GetSection("storageProvider");
        options.PartitionCount = PositiveNumber(storageProvider, "partitionCount") ?? options.PartitionCount;
        options.ControlQueueVisibilityTimeout = PositiveTimeSpan(storageProvider, "controlQueueVisibilityTimeout") ?? options.ControlQueueVisibilityTimeout;
        options.WorkItemVisibilityTimeout = PositiveTimeSpan(storageProvider, "workItemQueueVisibilityTimeout") ?? options.WorkItemVisibilityTimeout;

        var starter = new TaskHubStarter(options, new DurableFunctions(functions, services.GetRequiredService<FunctionInvoker>()), services.GetRequiredService<DurableClientBindings>(), loggers);
        await starter.StartAsync(cancellationToken);
        triggers.AddRange(functions.Where(f => f.Trigger.Is(DurableFunctions.OrchestrationTrigger) || f.Trigger.Is(DurableFunctions.ActivityTrigger))
            .Select(f => $"{f.Name}: {f.Trigger.Type} (task hub {hubName})"));
        return starter;
    }

    /// <summary>A host.json value that must be a positive whole number; null when it is not there.</summary>
    private static int? PositiveNumber(IConfigurationSection section, string key) =>
        section[key] is not { } text ? null
        : int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) && number > 0 ? number
        : throw new InvalidOperationException($"host.json's {HostJson.SettingName(section, key)} is '{text}'; it must be a positive whole number.");

    /// <summary>A host.json value that must be a positive time span (hh:mm:ss); null when it is not there.</summary>
    private static TimeSpan? PositiveTimeSpan(IConfigurationSection section, string key) =>
        section[key] is not { } text ? null
        : TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero ? span
        : throw new InvalidOperationException($"host.json's {HostJson.SettingName(section, key)} is '{text}'; it must be a positive time span (hh:mm:ss).");

    private static IPAddress ListenAddress(string address) =>
        address switch
        {
            "localhost" => IPAddress.Loopback,
            "*" or "+" => IPAddress.Any,
            _ when IPAddress.TryParse(address, out var parsed) => parsed,
            _ => throw new InvalidOperationException($"The setting {HostSettings.AddressSetting} is '{address}'; it must be an IP address (127.0.0.1, 0.0.0.0) or localhost."),
        };

    /// <summary>A listener per enabled queue-triggered function, on the queue its trigger names (<c>%SETTING%</c> resolved).</summary>
    private static List<string> AddQueueListeners(IServiceCollection services, IEnumerable<FunctionDescriptor> functions, HostSettings settings, ILogger logger)
    {
        var listening = new List<string>();
        foreach (var function in functions.Where(f => f.Trigger.Is(QueueTriggerData.TriggerType)))
        {
            if (settings.IsDisabled(function.Name))
            {
                HttpFunctions.LogDisabled(logger, function.Name);
                continue;
            }

            var queueName = settings.Resolve(function.Trigger.Text("queueName") ?? "", function.Name);
            if (!QueueNamePattern().IsMatch(queueName) || queueName.Contains("--", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"Function {function.Name} listens on queue '{queueName}', which is not a queue name whose poison queue can exist too (3-56 lower-case letters, digits and single hyphens, starting and ending with a letter or digit).");
            }

            var connection = function.Trigger.Text("connection");
            _ = settings.StorageConnection(connection, function.Name);
            services.AddSingleton<IHostedService>(sp => new QueueListener(
                function,
                queueName,
                sp.GetRequiredService<StorageAccounts>().Queues(connection, function.Name),
                sp.GetRequiredService<QueueHostOptions>(),
                sp.GetRequiredService<FunctionInvoker>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<QueueListener>>()));
            listening.Add($"{function.Name}: queue {queueName}");
        }

        return listening;
    }

    /// <summary>A scheduler per enabled timer-triggered function; its lock and status blobs are in <c>AzureWebJobsStorage</c>.</summary>
    private static List<string> AddTimerListeners(IServiceCollection services, IEnumerable<FunctionDescriptor> functions, HostSettings settings, ILogger logger)
    {
        var scheduled = new List<string>();
        foreach (var function in functions.Where(f => f.Trigger.Is(TimerSchedule.TriggerType)))
        {
            if (settings.IsDisabled(function.Name))
            {
                HttpFunctions.LogDisabled(logger, function.Name);
                continue;
            }

            var schedule = TimerSchedule.Of(function, settings.Resolve(function.Trigger.Text("schedule") ?? "", function.Name));
            _ = settings.StorageConnection(null, function.Name);
            services.AddSingleton<IHostedService>(sp => new TimerListener(
                function,
                schedule,
                sp.GetRequiredService<StorageAccounts>().Blobs(null, function.Name).GetBlobContainerClient(TimerListener.ContainerName),
                settings.HostId,
                sp.GetRequiredService<FunctionInvoker>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<TimerListener>>()));
            scheduled.Add($"{function.Name}: timer {schedule.Expression}{(schedule.RunOnStartup ? " (runOnStartup)" : "")}");
        }

        return scheduled;
    }

    private static void CheckOutputBindings(IEnumerable<FunctionDescriptor> functions, ILogger logger)
    {
        foreach (var function in functions)
        {
            foreach (var binding in function.Outputs.Where(b => !OutputBindings.Supports(b)))
            {
                LogUnsupportedOutput(logger, function.Name, binding.Type, binding.Name);
            }
        }
    }

    /// <summary>A worker that goes away takes the host down with it, loudly: nothing it was to run can run.</summary>
    private void WatchWorker() =>
        _ = worker.Lost.ContinueWith(
            _ =>
            {
                if (Volatile.Read(ref disposed) == 0 && !app.Lifetime.ApplicationStopping.IsCancellationRequested)
                {
                    WorkerLost = true;
                    LogWorkerLost(logger);
                    app.Lifetime.StopApplication();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,54}[a-z0-9]$")]
    private static partial Regex QueueNamePattern();

    [LoggerMessage(EventId = 1220, Level = LogLevel.Information, Message = "Local Functions host listening on {Address} with {Count} functions")]
    private static partial void LogStarted(ILogger logger, string address, int count);

    [LoggerMessage(EventId = 1221, Level = LogLevel.Critical, Message = "The local Functions host could not start")]
    private static partial void LogStartFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1222, Level = LogLevel.Critical, Message = "The worker went away; the host stops")]
    private static partial void LogWorkerLost(ILogger logger);

    [LoggerMessage(EventId = 1223, Level = LogLevel.Information, Message = "Local Functions host stopped")]
    private static partial void LogStopped(ILogger logger);

    [LoggerMessage(EventId = 1224, Level = LogLevel.Warning, Message = "Function {Function} has a {Type} output binding ({Name}), which this host does not write; a value returned for it fails the invocation")]
    private static partial void LogUnsupportedOutput(ILogger logger, string function, string type, string name);
}
