using DecentCloud.Functions.Platform.Configuration;
using DecentCloud.Functions.Platform.Http;
using DecentCloud.Functions.Platform.Queues;

namespace DecentCloud.Functions.Platform;

public static class PlatformServices
{
    /// <summary>
    /// host.json's settings under <c>AzureFunctionsJobHost</c> (the app reads the queue settings the host runs its queue
    /// functions with, such as maxDequeueCount), beneath every other source, as the Functions host orders them.
    /// </summary>
    public static IConfigurationBuilder AddAppSettings(this IConfigurationManager configuration, string appDirectory)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        configuration.Sources.Insert(0, HostJson.Load(appDirectory));
        return configuration;
    }

    /// <summary>The clock, the storage account's clients, problem details with the invocation's trace id.</summary>
    public static IServiceCollection AddPlatform(this IServiceCollection services)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSettings<QueueHostOptions>(QueueHostOptions.Section);
        services.AddStorageClients();
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions["traceId"] = TraceIds.Of(context.HttpContext));
        return services;
    }
}
