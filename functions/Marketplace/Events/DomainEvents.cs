using DecentCloud.Functions.Platform.Queues;

namespace DecentCloud.Functions.Marketplace.Events;

/// <summary>The message every subscriber queue receives: <c>{ id, name, occurredAt, payload }</c> in camelCase JSON.</summary>
/// <param name="Id">The same on every copy and on every re-publication of one event: subscribers dedupe by it.</param>
public sealed record DomainEvent<TPayload>(Guid Id, string Name, DateTimeOffset OccurredAt, TPayload Payload);

/// <summary>Publishes domain events to every subscriber queue declared in <see cref="EventSubscriptions"/>.</summary>
public sealed class DomainEvents(QueueWriter queues, TimeProvider time)
{
    /// <summary>Sends one envelope to each subscriber's queue.</summary>
    /// <param name="id">Give the id of an earlier attempt to re-publish the same event (delivery is at least once).</param>
    /// <exception cref="InvalidOperationException">A queue could not be written; some subscribers may already have the event.</exception>
    public async Task<DomainEvent<TPayload>> PublishAsync<TPayload>(string eventName, TPayload payload, Guid? id = null, CancellationToken cancellationToken = default)
    {
        var subscribers = EventSubscriptions.QueuesFor(eventName);
        var envelope = new DomainEvent<TPayload>(id ?? Guid.NewGuid(), eventName, time.GetUtcNow(), payload);
        foreach (var queue in subscribers)
        {
            await queues.SendAsync(queue, envelope, cancellationToken: cancellationToken);
        }

        return envelope;
    }
}
