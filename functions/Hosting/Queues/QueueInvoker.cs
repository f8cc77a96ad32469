using System.Text.Json;

namespace DecentCloud.Functions.Hosting.Queues;

/// <summary>Creates a queue function in the invocation's scope, reads its JSON message and runs it.</summary>
public sealed class QueueInvoker
{
    private readonly Func<IServiceProvider, BinaryData, CancellationToken, Task> invoke;

    private QueueInvoker(Type messageType, Func<IServiceProvider, BinaryData, CancellationToken, Task> invoke)
    {
        MessageType = messageType;
        this.invoke = invoke;
    }

    public Type MessageType { get; }

    public Task InvokeAsync(IServiceProvider services, BinaryData body, CancellationToken cancellationToken) =>
        invoke(services, body, cancellationToken);

    public static QueueInvoker For<TFunction, TMessage>()
        where TFunction : class, IQueueFunction<TMessage>
    {
        var create = ActivatorUtilities.CreateFactory<TFunction>(Type.EmptyTypes);
        return new QueueInvoker(typeof(TMessage), (services, body, cancellationToken) =>
        {
            TMessage message;
            try
            {
                message = JsonSerializer.Deserialize<TMessage>(body.ToMemory().Span, QueueJson.Options)
                    ?? throw new InvalidDataException($"The message is JSON null, not a {typeof(TMessage).Name}.");
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"reading the message as {typeof(TMessage).Name}", ex);
            }

            return create(services, null).Run(message, cancellationToken);
        });
    }
}

/// <summary>The one JSON shape of queue messages, for writers and readers alike.</summary>
public static class QueueJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);
}
