using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using DecentCloud.Functions.Hosting.Configuration;
using DecentCloud.Functions.Hosting.Queues;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Hosting;

/// <summary>The table, blob and queue clients of the <c>AzureWebJobsStorage</c> account, one of each for the whole app.</summary>
public static class StorageClients
{
    public static IServiceCollection AddStorageClients(this IServiceCollection services)
    {
        services.AddSettings<StorageOptions>();
        services.AddSingleton(sp => new TableServiceClient(Connection(sp), WithRetry(new TableClientOptions())));
        services.AddSingleton(sp => new BlobServiceClient(Connection(sp), WithRetry(new BlobClientOptions())));
        services.AddSingleton(sp => new QueueServiceClient(
            Connection(sp),
            WithRetry(new QueueClientOptions { MessageEncoding = sp.GetRequiredService<IOptions<QueueHostOptions>>().Value.Encoding })));
        services.AddSingleton<QueueWriter>();
        return services;
    }

    /// <summary>
    /// Short SDK retries (about 3.5 s in all): the callers retry on their own terms (queue polling,
    /// timer loops, start-up set-up, Stripe's redelivery), so a long SDK back-off only holds up an
    /// HTTP answer or a shutdown.
    /// </summary>
    internal static TOptions WithRetry<TOptions>(TOptions options)
        where TOptions : ClientOptions
    {
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = 3;
        options.Retry.Delay = TimeSpan.FromMilliseconds(500);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(2);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        return options;
    }

    private static string Connection(IServiceProvider services) =>
        services.GetRequiredService<IOptions<StorageOptions>>().Value.ConnectionString;
}
