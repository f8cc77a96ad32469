using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Azure.Storage.Queues;
using DecentCloud.FunctionsHost.Configuration;
using DecentCloud.FunctionsHost.Worker;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace DecentCloud.FunctionsHost.Storage;

/// <summary>
/// Writes what a succeeded invocation returned for its output bindings, as the Functions host does: a queue output
/// becomes one message per value (a collection or a JSON array, one per item). HTTP outputs are the worker's own
/// answer and need nothing here.
/// </summary>
internal sealed partial class OutputBindings(HostSettings settings, StorageAccounts storage, ILogger<OutputBindings> logger)
{
    public const string ReturnName = "$return";

    // Only queues known to exist are remembered; a failed creation is tried again on the next write, never cached.
    private readonly ConcurrentDictionary<string, QueueClient> ready = new(StringComparer.Ordinal);

    /// <summary>Output binding types this host writes (or, for http, leaves to the worker).</summary>
    public static bool Supports(BindingDescriptor binding) => binding.Is("queue") || binding.Is("http");

    public async Task WriteAsync(FunctionDescriptor function, InvocationResponse response, CancellationToken cancellationToken)
    {
        foreach (var binding in function.Outputs.Where(b => !b.Is("http")))
        {
            var data = binding.Name == ReturnName
                ? response.ReturnValue
                : response.OutputData.FirstOrDefault(output => output.Name == binding.Name)?.Data;
            if (data is null || data.DataCase == TypedData.DataOneofCase.None)
            {
                continue;
            }

            if (!binding.Is("queue"))
            {
                throw new InvalidOperationException($"Function {function.Name} returned a value for its {binding.Type} output binding {binding.Name}, which this host does not write.");
            }

            var queueName = settings.Resolve(binding.Text("queueName") ?? "", function.Name);
            var queue = await QueueAsync(function, binding, queueName, cancellationToken);
            var count = 0;
            foreach (var message in Messages(data))
            {
                await queue.SendMessageAsync(message, cancellationToken: cancellationToken);
                count++;
            }

            LogWritten(logger, function.Name, count, queueName);
        }
    }

    private static List<BinaryData> Messages(TypedData data)
    {
        switch (data.DataCase)
        {
            case TypedData.DataOneofCase.String:
                return [BinaryData.FromString(data.String)];
            case TypedData.DataOneofCase.Bytes:
                return [BinaryData.FromBytes(data.Bytes.Memory)];
            case TypedData.DataOneofCase.Json:
                using (var document = JsonDocument.Parse(data.Json))
                {
                    return document.RootElement.ValueKind == JsonValueKind.Array
                        ? document.RootElement.EnumerateArray().Select(JsonMessage).ToList()
                        : [JsonMessage(document.RootElement)];
                }

            case TypedData.DataOneofCase.CollectionString:
                return data.CollectionString.String.Select(BinaryData.FromString).ToList();
            case TypedData.DataOneofCase.CollectionBytes:
                return data.CollectionBytes.Bytes.Select(bytes => BinaryData.FromBytes(bytes.Memory)).ToList();
            case TypedData.DataOneofCase.Int:
                return [BinaryData.FromString(data.Int.ToString(CultureInfo.InvariantCulture))];
            case TypedData.DataOneofCase.Double:
                return [BinaryData.FromString(data.Double.ToString(CultureInfo.InvariantCulture))];
            default:
                throw new InvalidOperationException($"A queue output of kind {data.DataCase} cannot be written as messages.");
        }
    }

    private static BinaryData JsonMessage(JsonElement element) =>
        BinaryData.FromString(element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText());

    private async Task<QueueClient> QueueAsync(FunctionDescriptor function, BindingDescriptor binding, string queueName, CancellationToken cancellationToken)
    {
        var key = $"{binding.Text("connection")}/{queueName}";
        if (ready.TryGetValue(key, out var known))
        {
            return known;
        }

        var queue = storage.Queues(binding.Text("connection"), function.Name).GetQueueClient(queueName);
        await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        return ready.GetOrAdd(key, queue);
    }

    [LoggerMessage(EventId = 1216, Level = LogLevel.Debug, Message = "Function {Function} put {Count} messages on {Queue}")]
    private static partial void LogWritten(ILogger logger, string function, int count, string queue);
}
