using System.ComponentModel.DataAnnotations;
using Azure.Storage.Queues;

namespace DecentCloud.Functions.Hosting.Queues;

/// <summary>
/// host.json <c>extensions.queues</c>, with the Functions host's defaults and meanings.
/// </summary>
public sealed class QueueHostOptions : IValidatableObject
{
    public const string Section = "AzureFunctionsJobHost:extensions:queues";

    /// <summary>Longest wait between polls of an empty queue; polling backs off exponentially from 100 ms up to it.</summary>
    public TimeSpan MaxPollingInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a message that failed stays invisible before it is retried.</summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.Zero;

    /// <summary>Messages fetched at once and processed in parallel, per instance and queue function.</summary>
    [Range(1, 32)]
    public int BatchSize { get; set; } = 16;

    /// <summary>When this few messages are still being processed, the next batch is fetched.</summary>
    [Range(0, 1024)]
    public int? NewBatchThreshold { get; set; }

    /// <summary>Failed attempts after which a message is moved, unchanged, to <c>{queue}-poison</c>.</summary>
    [Range(1, 1000)]
    public int MaxDequeueCount { get; set; } = 5;

    /// <summary><c>base64</c> (the Functions default) or <c>none</c>.</summary>
    public string MessageEncoding { get; set; } = "base64";

    public int EffectiveNewBatchThreshold => NewBatchThreshold ?? BatchSize / 2;

    public QueueMessageEncoding Encoding =>
        string.Equals(MessageEncoding, "none", StringComparison.OrdinalIgnoreCase) ? QueueMessageEncoding.None : QueueMessageEncoding.Base64;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MaxPollingInterval < TimeSpan.FromMilliseconds(100))
        {
            yield return new ValidationResult("host.json extensions.queues.maxPollingInterval must be at least 00:00:00.100.", [nameof(MaxPollingInterval)]);
        }

        if (VisibilityTimeout < TimeSpan.Zero || VisibilityTimeout > TimeSpan.FromDays(7))
        {
            yield return new ValidationResult("host.json extensions.queues.visibilityTimeout must be between 0 and 7 days.", [nameof(VisibilityTimeout)]);
        }

        if (!string.Equals(MessageEncoding, "base64", StringComparison.OrdinalIgnoreCase) && !string.Equals(MessageEncoding, "none", StringComparison.OrdinalIgnoreCase))
        {
            yield return new ValidationResult("host.json extensions.queues.messageEncoding must be base64 or none.", [nameof(MessageEncoding)]);
        }
    }
}
