using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Queues;
using DecentCloud.Testing;

namespace DecentCloud.Tests.Support;

/// <summary>
/// One private, in-memory Azurite per test class (no other class uses it while this one runs); tests keep apart by
/// using their own queue names and host ids. The Azurite comes from <see cref="AzuritePool"/>: emptied, it serves the
/// next class instead of a new one starting.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private Azurite? azurite;

    public string ConnectionString => (azurite ?? throw new InvalidOperationException("Azurite is not started.")).ConnectionString;

    public async Task InitializeAsync() => azurite = await AzuritePool.RentAsync();

    public async Task DisposeAsync()
    {
        if (azurite is not null)
        {
            await AzuritePool.ReturnAsync(azurite);
            azurite = null;
        }
    }
}

/// <summary>
/// The test run's idle Azurites. Starting one costs about two seconds of a core (Node loading Azurite), and the suite's
/// classes each used to start their own. A class rents one; when it is done (its apps stopped), every blob container,
/// queue and table is deleted and the Azurite waits for the next class, as empty as a new one. One that cannot be
/// emptied is stopped instead. Idle ones are stopped when the test process exits, and if it ends without that handler
/// running (as when the test runner ends it), each Azurite's watching shell kills it (see <see cref="Azurite"/>).
/// </summary>
public static class AzuritePool
{
    private static readonly ConcurrentBag<Azurite> Idle = [];

    static AzuritePool()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            while (Idle.TryTake(out var azurite))
            {
                azurite.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        };
    }

    public static async Task<Azurite> RentAsync() => Idle.TryTake(out var azurite) ? azurite : await Azurite.StartAsync();

    public static async Task ReturnAsync(Azurite azurite)
    {
        try
        {
            await EmptyAsync(azurite.ConnectionString);
        }
        catch (Exception ex) when (ex is RequestFailedException or HttpRequestException)
        {
            // Not known to be empty, so not lent again: the next class starts a new one. The class's own tests are over.
            await azurite.DisposeAsync();
            return;
        }

        Idle.Add(azurite);
    }

    /// <summary>Deletes every blob container, queue and table of the account.</summary>
    public static async Task EmptyAsync(string connectionString)
    {
        var blobs = new BlobServiceClient(connectionString);
        await foreach (var item in blobs.GetBlobContainersAsync())
        {
            // Leases left by stopped hosts (the timers' locks) would refuse the delete until they expire: broken now.
            var container = blobs.GetBlobContainerClient(item.Name);
            await foreach (var blob in container.GetBlobsAsync())
            {
                if (blob.Properties.LeaseState != LeaseState.Available)
                {
                    await container.GetBlobClient(blob.Name).GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);
                }
            }

            if (item.Properties.LeaseState != LeaseState.Available)
            {
                await container.GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);
            }

            await container.DeleteAsync();
        }

        var queues = new QueueServiceClient(connectionString);
        await foreach (var queue in queues.GetQueuesAsync())
        {
            await queues.DeleteQueueAsync(queue.Name);
        }

        var tables = new TableServiceClient(connectionString);
        await foreach (var table in tables.QueryAsync())
        {
            await tables.DeleteTableAsync(table.Name);
        }
    }
}
