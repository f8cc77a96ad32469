using System.ComponentModel.DataAnnotations;
using Azure.Storage.Queues;

namespace DecentCloud.Functions.Platform.Queues;

/// <summary>
/// host.json <c>extensions.queues</c>, as far as the app needs to agree with the host that runs its queue functions: the
/// number of attempts before a message goes to the poison queue, and the message encoding its own sends must use.
/// </summary>
public sealed class QueueHostOptions : IValidatableObject
{
    public const string Section = "AzureFunctionsJobHost:extensions:queues";

    /// <summary>Failed attempts after which a message is moved, unchanged, to <c>{queue}-poison</c>.</summary>
    [Range(1, 1000)]
    public int MaxDequeueCount { get; set; } = 5;

    /// <summary><c>base64</c> (the Functions default) or <c>none</c>.</summary>
    public string MessageEncoding { get; set; } = "base64";

    public QueueMessageEncoding Encoding =>
        string.Equals(MessageEncoding, "none", StringComparison.OrdinalIgnoreCase) ? QueueMessageEncoding.None : QueueMessageEncoding.Base64;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.Equals(MessageEncoding, "base64", StringComparison.OrdinalIgnoreCase) && !string.Equals(MessageEncoding, "none", StringComparison.OrdinalIgnoreCase))
        {
            yield return new ValidationResult("host.json extensions.queues.messageEncoding must be base64 or none.", [nameof(MessageEncoding)]);
        }
    }
}
