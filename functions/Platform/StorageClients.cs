using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using DecentCloud.Functions.Platform.Configuration;
using DecentCloud.Functions.Platform.Queues;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Platform;

/// <summary>
/// The table, blob and queue clients of the <c>AzureWebJobsStorage</c> account (by connection string or by identity, see
/// <see cref="StorageOptions"/>), one of each for the whole app.
/// </summary>
public static class StorageClients
{
    public static IServiceCollection AddStorageClients(this IServiceCollection services)
    {
        services.AddSettings<StorageOptions>();
        services.AddSingleton(sp => Account(sp) is { UsesIdentity: true } account
            ? new TableServiceClient(account.ServiceUri("table"), account.TokenCredential(), WithRetry(new TableClientOptions()))
            : new TableServiceClient(Account(sp).ConnectionString, WithRetry(new TableClientOptions())));
        services.AddSingleton(sp => Account(sp) is { UsesIdentity: true } account
            ? new BlobServiceClient(account.ServiceUri("blob"), account.TokenCredential(), WithRetry(new BlobClientOptions()))
            : new BlobServiceClient(Account(sp).ConnectionString, WithRetry(new BlobClientOptions())));
        services.AddSingleton(sp =>
        {
            var options = WithRetry(new QueueClientOptions { MessageEncoding = sp.GetRequiredService<IOptions<QueueHostOptions>>().Value.Encoding });
            var account = Account(sp);
            return account.UsesIdentity
                ? new QueueServiceClient(account.ServiceUri("queue"), account.TokenCredential(), options)
                : new QueueServiceClient(account.ConnectionString, options);
        });
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

    private static StorageOptions Account(IServiceProvider services) =>
        services.GetRequiredService<IOptions<StorageOptions>>().Value;
}
