using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration.Memory;

namespace DecentCloud.FunctionsHost.Configuration;

/// <summary>
/// The app's host.json as the Functions host reads it: its settings appear in configuration under
/// <c>AzureFunctionsJobHost</c>, so an environment variable such as <c>AzureFunctionsJobHost__extensions__queues__batchSize</c>
/// overrides the file; its <c>logging.logLevel</c> sets the host's log levels.
/// </summary>
internal static class HostJson
{
    public const string FileName = "host.json";
    public const string Section = "AzureFunctionsJobHost";

    /// <summary>How host.json names a setting of <paramref name="section"/>, for an error message: extensions.durableTask.hubName.</summary>
    public static string SettingName(IConfigurationSection section, string key) =>
        string.Join('.', section.Path.Split(':').Skip(1).Append(key));

    public static MemoryConfigurationSource Load(string appDirectory)
    {
        var path = Path.Combine(appDirectory, FileName);
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        try
        {
            using var stream = File.OpenRead(path);
            using var document = JsonDocument.Parse(stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidOperationException($"{path} must hold a JSON object.");
            }

            Flatten(document.RootElement, Section, values);
            if (document.RootElement.TryGetProperty("logging", out var logging) && logging.TryGetProperty("logLevel", out var levels))
            {
                // Logging__LogLevel__{category} in the environment still overrides these.
                Flatten(levels, "Logging:LogLevel", values);
            }
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            throw new InvalidOperationException($"reading {path}", ex);
        }

        return new MemoryConfigurationSource { InitialData = values };
    }

    private static void Flatten(JsonElement element, string prefix, Dictionary<string, string?> into)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Flatten(property.Value, $"{prefix}:{property.Name}", into);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Flatten(item, $"{prefix}:{index.ToString(CultureInfo.InvariantCulture)}", into);
                    index++;
                }

                break;
            case JsonValueKind.Null:
                into[prefix] = null;
                break;
            case JsonValueKind.String:
                into[prefix] = element.GetString();
                break;
            default:
                into[prefix] = element.GetRawText();
                break;
        }
    }
}
