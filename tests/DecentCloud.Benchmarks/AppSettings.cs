using System.Text.Json;
using DecentCloud.Testing;
using Microsoft.Extensions.Logging;

namespace DecentCloud.Benchmarks;

/// <summary>The settings the apps under test get, in place of a local.settings.json.</summary>
internal static class AppSettings
{
    /// <summary>40 characters, as a real master key; nothing here calls an admin function.</summary>
    public const string DummyMasterKey = "benchmark-master-key-not-secret-00000000";

    /// <summary>
    /// The safe local values of local.settings.sample.json (every setting the function app reads, so a feature that
    /// adds a required setting does not stop the benchmark), then the benchmark's own storage, port and master key.
    /// Names as environment variables spell them (<c>__</c> between sections).
    /// </summary>
    public static Dictionary<string, string?> For(string storageConnectionString, int port)
    {
        var values = Sample();
        values["AzureWebJobsStorage"] = storageConnectionString;
        values["FUNCTIONS_HTTP_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        values["FUNCTIONS_MASTER_KEY"] = DummyMasterKey;
        return values;
    }

    /// <summary>
    /// Every log level the app's host.json sets below Warning, and the default, raised to Warning, for the host and (through
    /// its environment) the worker: keeps the start and stop lines and any per-message or per-request Information line off
    /// the benchmark's console and out of the measured work.
    /// </summary>
    public static Dictionary<string, string?> QuietLogging(string appDirectory)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase) { ["Logging__LogLevel__Default"] = nameof(LogLevel.Warning) };
        using var hostJson = ReadJson(Path.Combine(appDirectory, "host.json"));
        if (hostJson.RootElement.TryGetProperty("logging", out var logging) && logging.TryGetProperty("logLevel", out var levels))
        {
            foreach (var category in levels.EnumerateObject())
            {
                if (!Enum.TryParse<LogLevel>(category.Value.GetString(), ignoreCase: true, out var level) || level < LogLevel.Warning)
                {
                    values[$"Logging__LogLevel__{category.Name}"] = nameof(LogLevel.Warning);
                }
            }
        }

        return values;
    }

    /// <summary>
    /// The repository's host.json <c>extensions.queues</c> as the <c>AzureFunctionsJobHost__extensions__queues__…</c>
    /// settings that override an app's own host.json, so another app's queue function runs with the function app's queue settings.
    /// </summary>
    public static Dictionary<string, string?> RepositoryQueueSettings()
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        using var hostJson = ReadJson(Path.Combine(RepositoryRoot.Path, "host.json"));
        if (hostJson.RootElement.TryGetProperty("extensions", out var extensions) && extensions.TryGetProperty("queues", out var queues))
        {
            foreach (var setting in queues.EnumerateObject())
            {
                values[$"AzureFunctionsJobHost__extensions__queues__{setting.Name}"] =
                    setting.Value.ValueKind == JsonValueKind.String ? setting.Value.GetString() : setting.Value.GetRawText();
            }
        }

        return values;
    }

    private static Dictionary<string, string?> Sample()
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var path = Path.Combine(RepositoryRoot.Path, "local.settings.sample.json");
        if (!File.Exists(path))
        {
            return values;
        }

        using var document = ReadJson(path);
        if (document.RootElement.TryGetProperty("Values", out var settings) && settings.ValueKind == JsonValueKind.Object)
        {
            foreach (var setting in settings.EnumerateObject())
            {
                values[setting.Name] = setting.Value.ValueKind == JsonValueKind.String ? setting.Value.GetString() ?? "" : setting.Value.GetRawText();
            }
        }

        return values;
    }

    private static JsonDocument ReadJson(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            throw new BenchmarkException($"reading {path}", ex);
        }
    }
}
