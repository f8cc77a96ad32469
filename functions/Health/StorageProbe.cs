using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace DecentCloud.Functions.Health;

/// <summary>Asks each storage service of the app's account for something cheap, all at once, with a short deadline.</summary>
public sealed partial class StorageProbe(TableServiceClient tables, BlobServiceClient blobs, QueueServiceClient queues, ILogger<StorageProbe> logger)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(3);

    public async Task<StorageHealth> CheckAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Deadline);
        var token = deadline.Token;

        var checks = await Task.WhenAll(
            ReachableAsync("tables", async () => await tables.QueryAsync(maxPerPage: 1, cancellationToken: token).AsPages().GetAsyncEnumerator(token).MoveNextAsync()),
            ReachableAsync("blobs", async () => await blobs.GetBlobContainersAsync(cancellationToken: token).AsPages(pageSizeHint: 1).GetAsyncEnumerator(token).MoveNextAsync()),
            ReachableAsync("queues", async () => await queues.GetQueuesAsync(cancellationToken: token).AsPages(pageSizeHint: 1).GetAsyncEnumerator(token).MoveNextAsync()));
        return new StorageHealth(checks[0], checks[1], checks[2]);
    }

    private async Task<bool> ReachableAsync(string service, Func<Task> probe)
    {
        try
        {
            await probe();
            return true;
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or OperationCanceledException or AggregateException)
        {
            // The caller of the anonymous health endpoint learns only "unreachable"; the cause goes to the log.
            LogUnreachable(logger, ex, service);
            return false;
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Health check: storage {Service} unreachable")]
    private static partial void LogUnreachable(ILogger logger, Exception exception, string service);
}

/// <summary>Whether each storage service answered.</summary>
public sealed record StorageHealth(bool Tables, bool Blobs, bool Queues)
{
    public bool Reachable => Tables && Blobs && Queues;
}
