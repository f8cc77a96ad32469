using System.Text.Json;
using Azure.Storage.Queues.Models;
using DecentCloud.FunctionsHost.Worker;
using Google.Protobuf;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace DecentCloud.FunctionsHost.Queues;

/// <summary>
/// What an invocation of a queue function carries, as the Functions host's queue extension gives it: the message as the
/// trigger's input (its text; its bytes for <c>dataType: binary</c>; the whole message as model binding data when the
/// worker binds a QueueMessage or BinaryData, which the Worker SDK marks <c>supportsDeferredBinding</c>), and the
/// message's properties as trigger metadata (QueueTrigger, Id, DequeueCount, InsertionTime, ...), which the worker binds
/// to parameters of those names.
/// </summary>
internal static class QueueTriggerData
{
    public const string TriggerType = "queueTrigger";
    private const string ExtensionName = "AzureStorageQueues";

    public static InvocationRequest Request(BindingDescriptor trigger, QueueMessage message)
    {
        var request = new InvocationRequest();
        request.InputData.Add(new ParameterBinding { Name = trigger.Name, Data = Input(trigger, message) });
        request.TriggerMetadata["QueueTrigger"] = new TypedData { String = message.Body.ToString() };
        request.TriggerMetadata["Id"] = new TypedData { String = message.MessageId };
        if (message.PopReceipt is { } popReceipt)
        {
            // A message run on demand (POST /admin/functions/{name}) was never received, so it has no receipt.
            request.TriggerMetadata["PopReceipt"] = new TypedData { String = popReceipt };
        }

        request.TriggerMetadata["DequeueCount"] = Json(message.DequeueCount);
        if (message.InsertedOn is { } inserted)
        {
            request.TriggerMetadata["InsertionTime"] = Json(inserted);
        }

        if (message.ExpiresOn is { } expires)
        {
            request.TriggerMetadata["ExpirationTime"] = Json(expires);
        }

        if (message.NextVisibleOn is { } nextVisible)
        {
            request.TriggerMetadata["NextVisibleTime"] = Json(nextVisible);
        }

        return request;
    }

    /// <summary>
    /// A message that was never on the queue, for a run on demand: the input as its body, a new id, its first delivery,
    /// inserted now with the default time-to-live of 7 days, as the Functions host makes one from the portal's input.
    /// </summary>
    public static QueueMessage OnDemand(string body, DateTimeOffset now) =>
        QueuesModelFactory.QueueMessage(
            messageId: Guid.NewGuid().ToString(),
            popReceipt: null,
            body: BinaryData.FromString(body),
            dequeueCount: 1,
            nextVisibleOn: now,
            insertedOn: now,
            expiresOn: now.AddDays(7));

    private static TypedData Input(BindingDescriptor trigger, QueueMessage message)
    {
        if (string.Equals(trigger.Property("supportsDeferredBinding"), "true", StringComparison.OrdinalIgnoreCase))
        {
            var content = JsonSerializer.SerializeToUtf8Bytes(new
            {
                message.MessageId,
                message.PopReceipt,
                MessageText = message.Body.ToString(),
                message.DequeueCount,
                message.NextVisibleOn,
                message.InsertedOn,
                message.ExpiresOn,
            });
            return new TypedData
            {
                ModelBindingData = new ModelBindingData { Version = "1.0", Source = ExtensionName, ContentType = "application/json", Content = ByteString.CopyFrom(content) },
            };
        }

        return string.Equals(trigger.Text("dataType"), "binary", StringComparison.OrdinalIgnoreCase)
            ? new TypedData { Bytes = ByteString.CopyFrom(message.Body.ToMemory().Span) }
            : new TypedData { String = message.Body.ToString() };
    }

    private static TypedData Json<T>(T value) => new() { Json = JsonSerializer.Serialize(value) };
}
