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
        services.AddSingleton(sp => new TableServiceClient(Connection(sp)));
        services.AddSingleton(sp => new BlobServiceClient(Connection(sp)));
        services.AddSingleton(sp => new QueueServiceClient(
            Connection(sp),
            new QueueClientOptions { MessageEncoding = sp.GetRequiredService<IOptions<QueueHostOptions>>().Value.Encoding }));
        services.AddSingleton<QueueWriter>();
        return services;
    }

    private static string Connection(IServiceProvider services) =>
        services.GetRequiredService<IOptions<StorageOptions>>().Value.ConnectionString;
}
