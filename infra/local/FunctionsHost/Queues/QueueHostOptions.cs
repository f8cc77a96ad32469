using Azure.Storage.Queues;

namespace DecentCloud.FunctionsHost.Queues;

/// <summary>host.json <c>extensions.queues</c>, with the Functions host's defaults and meanings.</summary>
internal sealed class QueueHostOptions
{
    public const string Section = "AzureFunctionsJobHost:extensions:queues";

    /// <summary>Longest wait between polls of an empty queue; polling backs off exponentially from 100 ms up to it.</summary>
    public TimeSpan MaxPollingInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a message that failed stays invisible before it is retried.</summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.Zero;

    /// <summary>Messages fetched at once and processed in parallel, per instance and queue function.</summary>
    public int BatchSize { get; set; } = 16;

    /// <summary>When this few messages are still being processed, the next batch is fetched.</summary>
    public int? NewBatchThreshold { get; set; }

    /// <summary>Failed attempts after which a message is moved, unchanged, to <c>{queue}-poison</c>.</summary>
    public int MaxDequeueCount { get; set; } = 5;

    /// <summary><c>base64</c> (the Functions default) or <c>none</c>.</summary>
    public string MessageEncoding { get; set; } = "base64";

    public int EffectiveNewBatchThreshold => NewBatchThreshold ?? BatchSize / 2;

    public QueueMessageEncoding Encoding =>
        string.Equals(MessageEncoding, "none", StringComparison.OrdinalIgnoreCase) ? QueueMessageEncoding.None : QueueMessageEncoding.Base64;

    /// <summary>Reads and checks the section; a bad value stops the host with the setting's name.</summary>
    public static QueueHostOptions Load(IConfiguration configuration)
    {
        var options = new QueueHostOptions();
        try
        {
            configuration.GetSection(Section).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"host.json extensions.queues is not valid: {ex.Message}", ex);
        }

        var problems = new List<string>();
        if (options.BatchSize is < 1 or > 32)
        {
            problems.Add("batchSize must be between 1 and 32");
        }

        if (options.NewBatchThreshold is < 0 or > 1024)
        {
            problems.Add("newBatchThreshold must be between 0 and 1024");
        }

        if (options.MaxDequeueCount is < 1 or > 1000)
        {
            problems.Add("maxDequeueCount must be between 1 and 1000");
        }

        if (options.MaxPollingInterval < TimeSpan.FromMilliseconds(100))
        {
            problems.Add("maxPollingInterval must be at least 00:00:00.100");
        }

        if (options.VisibilityTimeout < TimeSpan.Zero || options.VisibilityTimeout > TimeSpan.FromDays(7))
        {
            problems.Add("visibilityTimeout must be between 0 and 7 days");
        }

        if (!string.Equals(options.MessageEncoding, "base64", StringComparison.OrdinalIgnoreCase) && !string.Equals(options.MessageEncoding, "none", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add("messageEncoding must be base64 or none");
        }

        return problems.Count == 0 ? options : throw new InvalidOperationException($"host.json extensions.queues: {string.Join("; ", problems)}.");
    }
}
