using System.Net;
using DecentCloud.Functions.Hosting.Configuration;
using DecentCloud.Functions.Hosting.Http;
using DecentCloud.Functions.Hosting.Queues;
using DecentCloud.Functions.Hosting.Timers;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Hosting;

/// <summary>
/// The app's own small Functions host on ASP.NET Core: settings as a function app reads them, HTTP
/// functions under /api with function keys, a listener per queue function and a scheduler per timer
/// function. See docs/host.md.
/// </summary>
public static class FunctionsApplication
{
    public const string RoutePrefix = "api";

    public static FunctionsApplicationBuilder CreateBuilder(string[] args, string? scriptRoot = null)
    {
        var root = ScriptRoot.Find(scriptRoot);
        var created = LocalSettings.EnsureCreated(root);
        var web = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = root });

        // host.json and local.settings.json come before every other source, so environment variables
        // and the command line override them, as they do in a function app.
        web.Configuration.Sources.Insert(0, HostJson.Load(root));
        if (LocalSettings.Load(root) is { } local)
        {
            web.Configuration.Sources.Insert(1, local);
        }

        return new FunctionsApplicationBuilder(web, root, created);
    }
}

public sealed class FunctionsApplicationBuilder
{
    private readonly WebApplicationBuilder web;
    private readonly string? startupNote;

    internal FunctionsApplicationBuilder(WebApplicationBuilder web, string scriptRoot, string? startupNote)
    {
        this.web = web;
        this.startupNote = startupNote;
        ScriptRoot = scriptRoot;
        // Every line written while handling a request, a queue message or a timer run carries its trace id (the
        // one problem details answer with), printed from the logging scope.
        web.Logging.Configure(logging => logging.ActivityTrackingOptions = ActivityTrackingOptions.TraceId);
        web.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.IncludeScopes = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
        });
        AddHostServices(web.Services);
    }


    public string ScriptRoot { get; }

    public IServiceCollection Services => web.Services;

    public ConfigurationManager Configuration => web.Configuration;

    public ILoggingBuilder Logging => web.Logging;

    public FunctionCatalog Functions { get; } = new();

    public WebApplication Build()
    {
        web.Services.AddSingleton(Functions);
        AddTriggerListeners(web.Services, Functions, web.Configuration);
        var app = web.Build();

        if (startupNote is not null)
        {
            HostLog.StartupNote(app.Logger, startupNote);
        }

        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<BadHttpRequestMiddleware>();
        app.UseMiddleware<RouteValueGuard>();
        app.UseMiddleware<FunctionKeyMiddleware>();

        var api = app.MapGroup(FunctionsApplication.RoutePrefix);
        foreach (var function in Functions.HttpFunctions.Where(f => !IsDisabled(f, app.Configuration)))
        {
            HttpFunctionEndpoints.Map(api, function);
        }

        app.MapOpenApi($"/{FunctionsApplication.RoutePrefix}/openapi.json");
        return app;
    }

    private static void AddHostServices(IServiceCollection services)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSettings<FunctionHostOptions>();
        services.AddSettings<FunctionKeysOptions>();
        services.AddSettings<QueueHostOptions>(QueueHostOptions.Section);
        services.AddStorageClients();
        services.AddScoped<QueueMessageContext>();
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions["traceId"] = TraceIds.Of(context.HttpContext));
        services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer<FunctionsOpenApi>();
            options.AddOperationTransformer<FunctionsOpenApi>();
        });
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<FunctionHostOptions>, IConfiguration>((kestrel, host, configuration) =>
        {
            // --urls or ASPNETCORE_URLS, when given, win over FUNCTIONS_HTTP_ADDRESS and FUNCTIONS_HTTP_PORT.
            if (string.IsNullOrEmpty(configuration[WebHostDefaults.ServerUrlsKey]))
            {
                kestrel.Listen(IPAddress.Parse(host.Value.Address), host.Value.Port);
            }
        });
    }

    /// <summary>
    /// The Functions setting <c>AzureWebJobs.{name}.Disabled</c> (or <c>AzureWebJobs__{name}__Disabled</c> where a
    /// name cannot hold dots) turns one function off: no route, no listener, no schedule.
    /// </summary>
    public static bool IsDisabled(FunctionDescriptor function, IConfiguration configuration) =>
        bool.TryParse(configuration[$"AzureWebJobs.{function.Name}.Disabled"] ?? configuration[$"AzureWebJobs:{function.Name}:Disabled"], out var disabled) && disabled;

    private static void AddTriggerListeners(IServiceCollection services, FunctionCatalog catalog, IConfiguration configuration)
    {
        foreach (var function in catalog.QueueFunctions.Where(f => !IsDisabled(f, configuration)))
        {
            services.AddSingleton<IHostedService>(sp => new QueueListener(
                function,
                TriggerArguments.Resolve(function.QueueName, sp.GetRequiredService<IConfiguration>()),
                sp.GetRequiredService<QueueServiceClient>(),
                sp.GetRequiredService<IOptions<QueueHostOptions>>(),
                sp.GetRequiredService<IServiceScopeFactory>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<QueueListener>>()));
        }

        foreach (var function in catalog.TimerFunctions.Where(f => !IsDisabled(f, configuration)))
        {
            services.AddSingleton<IHostedService>(sp => new TimerListener(
                function,
                TriggerArguments.ParseSchedule(function.Name, TriggerArguments.Resolve(function.Schedule, sp.GetRequiredService<IConfiguration>())),
                sp.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(TimerListener.ContainerName),
                sp.GetRequiredService<IOptions<FunctionHostOptions>>().Value.HostId,
                sp.GetRequiredService<IServiceScopeFactory>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<TimerListener>>()));
        }
    }
}

internal static partial class HostLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "{Note}")]
    public static partial void StartupNote(ILogger logger, string note);
}
