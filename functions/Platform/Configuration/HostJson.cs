using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration.Memory;

namespace DecentCloud.Functions.Platform.Configuration;

/// <summary>
/// host.json as the Functions host reads it: its settings appear in configuration under
/// <c>AzureFunctionsJobHost</c>, so an environment variable such as
/// <c>AzureFunctionsJobHost__extensions__queues__batchSize</c> overrides the file. Its
/// <c>logging.logLevel</c> sets the log levels.
/// </summary>
public static class HostJson
{
    public const string FileName = "host.json";
    public const string Section = "AzureFunctionsJobHost";

    public static MemoryConfigurationSource Load(string scriptRoot)
    {
        var path = Path.Combine(scriptRoot, FileName);
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
                // host.json logging.logLevel sets log levels, as in a function app; ASP.NET Core reads them from
                // Logging:LogLevel (so Logging__LogLevel__{category} in the environment still overrides).
                Flatten(levels, "Logging:LogLevel", values);
            }
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            throw new InvalidOperationException($"reading {path}", ex);
        }

        return new MemoryConfigurationSource { InitialData = values };
    }

    internal static void Flatten(JsonElement element, string prefix, IDictionary<string, string?> into)
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
