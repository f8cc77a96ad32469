namespace DecentCloud.FunctionsHost;

/// <summary>What a local Functions host runs, and with which settings.</summary>
public sealed class LocalFunctionsHostOptions
{
    /// <summary>The output folder of a built isolated-worker app: worker.config.json, host.json and the worker assembly.</summary>
    public required string AppDirectory { get; init; }

    /// <summary>
    /// Settings that win over local.settings.json and the environment (a test's storage account, keys, port); the worker
    /// gets them in its environment too. Names as in local.settings.json (<c>__</c> or <c>:</c> between sections).
    /// </summary>
    public IDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Whether local.settings.json in the app's folder is read, as Core Tools reads it (the default). Tests turn it off:
    /// they give every setting themselves, and a developer's own file must not change what they run with.
    /// </summary>
    public bool ReadLocalSettings { get; init; } = true;

    /// <summary>Runs after the host's own logging set-up (console lines with trace ids), to add or replace providers.</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }
}
