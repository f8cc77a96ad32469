using System.Collections.Concurrent;
using Azure.Core;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using DecentCloud.FunctionsHost.Configuration;
using DecentCloud.FunctionsHost.Queues;

namespace DecentCloud.FunctionsHost.Storage;

/// <summary>
/// The storage clients of the connections the functions name (<c>AzureWebJobsStorage</c> unless a binding names another),
/// one of each per connection string; queue clients use host.json's message encoding.
/// </summary>
internal sealed class StorageAccounts(HostSettings settings, QueueHostOptions queueOptions)
{
    private readonly ConcurrentDictionary<string, QueueServiceClient> queues = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, BlobServiceClient> blobs = new(StringComparer.Ordinal);

    public QueueServiceClient Queues(string? connection, string function) =>
        queues.GetOrAdd(
            settings.StorageConnection(connection, function),
            connectionString => new QueueServiceClient(connectionString, WithRetry(new QueueClientOptions { MessageEncoding = queueOptions.Encoding })));

    public BlobServiceClient Blobs(string? connection, string function) =>
        blobs.GetOrAdd(settings.StorageConnection(connection, function), connectionString => new BlobServiceClient(connectionString, WithRetry(new BlobClientOptions())));

    /// <summary>
    /// Short SDK retries (about 3.5 s in all): the callers retry on their own terms (queue polling, timer loops, start-up
    /// set-up), so a long SDK back-off only holds up a shutdown.
    /// </summary>
    private static TOptions WithRetry<TOptions>(TOptions options)
        where TOptions : ClientOptions
    {
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = 3;
        options.Retry.Delay = TimeSpan.FromMilliseconds(500);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(2);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        return options;
    }
}
