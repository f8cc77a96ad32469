using Azure;

namespace DecentCloud.Functions.Platform;

/// <summary>Telling a failure of the storage service (or of the way to it) from one of the caller.</summary>
internal static class StorageRetry
{
    /// <summary>
    /// A failure of the storage service or of the way to it, not of the caller: a refusal, the SDK's own
    /// network timeout (a cancellation the caller did not ask for), or, after the SDK's retries, the
    /// AggregateException Azure.Core throws when every attempt failed in one of those ways.
    /// </summary>
    public static bool IsStorageFailure(Exception exception, CancellationToken callerToken) =>
        !callerToken.IsCancellationRequested && exception switch
        {
            RequestFailedException or OperationCanceledException => true,
            AggregateException aggregate => aggregate.InnerExceptions.All(inner => inner is RequestFailedException or OperationCanceledException),
            _ => false,
        };
}
