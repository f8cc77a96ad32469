using DecentCloud.Functions.Marketplace.Events;

namespace DecentCloud.Functions.Marketplace.Providers;

/// <summary>
/// Sends a provider's <c>provider-onboarded</c> event and marks the row once it is out. The row carries the event
/// id from the moment it is written, so every attempt sends the same event and subscribers dedupe by its id.
/// </summary>
public sealed partial class OnboardedEventOutbox(DomainEvents events, ProviderStore store, TimeProvider time, ILogger<OnboardedEventOutbox> logger)
{
    /// <summary>True when the event is out (now or before); false, logged at Error, when it could not be sent.</summary>
    public async Task<bool> PublishAsync(ProviderEntity provider, CancellationToken cancellationToken)
    {
        if (provider.OnboardedEventPublishedAt is not null)
        {
            return true;
        }

        try
        {
            await events.PublishAsync(EventSubscriptions.ProviderOnboarded, provider.ToOnboardedEvent(), provider.OnboardedEventId, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Whatever failed (storage, the network, a timeout), the profile is saved and a retry of the request finishes it.
            LogNotPublished(logger, ex, provider.PartitionKey, provider.OnboardedEventId);
            return false;
        }

        provider.OnboardedEventPublishedAt = time.GetUtcNow();
        if (!await store.TryReplaceAsync(provider, cancellationToken))
        {
            // Updated in between: the event is out, only the mark is missing, so a later retry sends a duplicate (same id).
            LogMarkLost(logger, provider.PartitionKey, provider.OnboardedEventId);
        }

        return true;
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Error, Message = "provider-onboarded event {EventId} for provider {PublicKey} not sent; the provider's next onboarding request sends it")]
    private static partial void LogNotPublished(ILogger logger, Exception exception, string publicKey, Guid eventId);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "provider-onboarded event {EventId} for provider {PublicKey} sent, but the row changed before it was marked sent")]
    private static partial void LogMarkLost(ILogger logger, string publicKey, Guid eventId);
}
