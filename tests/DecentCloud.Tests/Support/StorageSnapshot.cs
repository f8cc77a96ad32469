using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace DecentCloud.Tests.Support;

/// <summary>
/// What one storage account holds, as a fingerprint per table (its rows' keys and ETags, so an update shows too), per blob
/// container (its blobs' names and ETags) and per queue (its message count): enough to tell that a request stored nothing.
/// </summary>
public sealed class StorageSnapshot
{
    private static readonly (int Count, string Hash) Nothing = Fingerprint([]);

    private readonly Dictionary<string, (int Count, string Hash)> parts;

    private StorageSnapshot(Dictionary<string, (int Count, string Hash)> parts) => this.parts = parts;

    /// <param name="excluded">Tables, containers and queues left out, by name.</param>
    public static Task<StorageSnapshot> TakeAsync(string connectionString, IReadOnlySet<string> excluded) =>
        TakeAsync(connectionString, excluded.Contains);

    /// <param name="excluded">Whether a table, container or queue of that name is left out.</param>
    public static async Task<StorageSnapshot> TakeAsync(string connectionString, Func<string, bool> excluded)
    {
        var parts = new Dictionary<string, (int, string)>(StringComparer.Ordinal);
        var tables = new TableServiceClient(connectionString);
        await foreach (var table in tables.QueryAsync())
        {
            if (!excluded(table.Name))
            {
                var rows = new List<string>();
                await foreach (var row in tables.GetTableClient(table.Name).QueryAsync<TableEntity>(select: ["PartitionKey", "RowKey"]))
                {
                    rows.Add($"{row.PartitionKey}\n{row.RowKey}\n{row.ETag}");
                }

                parts[$"table {table.Name}"] = Fingerprint(rows);
            }
        }

        var blobs = new BlobServiceClient(connectionString);
        await foreach (var container in blobs.GetBlobContainersAsync())
        {
            if (!excluded(container.Name))
            {
                var names = new List<string>();
                await foreach (var blob in blobs.GetBlobContainerClient(container.Name).GetBlobsAsync())
                {
                    names.Add($"{blob.Name}\n{blob.Properties.ETag}");
                }

                parts[$"container {container.Name}"] = Fingerprint(names);
            }
        }

        var queues = new QueueServiceClient(connectionString);
        await foreach (var queue in queues.GetQueuesAsync())
        {
            if (!excluded(queue.Name))
            {
                var count = (await queues.GetQueueClient(queue.Name).GetPropertiesAsync()).Value.ApproximateMessagesCount;
                parts[$"queue {queue.Name}"] = (count, Nothing.Hash);
            }
        }

        return new StorageSnapshot(parts);
    }

    /// <summary>What changed since <paramref name="before"/>, one line per table, container or queue; a part that appeared empty is no change.</summary>
    public IReadOnlyList<string> ChangesSince(StorageSnapshot before)
    {
        var changes = new List<string>();
        foreach (var name in parts.Keys.Union(before.parts.Keys).Order(StringComparer.Ordinal))
        {
            var was = before.parts.GetValueOrDefault(name, Nothing);
            var now = parts.GetValueOrDefault(name, Nothing);
            if (was != now)
            {
                changes.Add(was.Count == now.Count ? $"{name}: {now.Count} items, changed" : $"{name}: {was.Count} items before, {now.Count} after");
            }
        }

        return changes;
    }

    private static (int Count, string Hash) Fingerprint(List<string> items)
    {
        items.Sort(StringComparer.Ordinal);
        return (items.Count, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n\n", items)))));
    }
}
