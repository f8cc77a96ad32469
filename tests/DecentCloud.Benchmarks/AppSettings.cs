using System.Text.Json;
using DecentCloud.Testing;

namespace DecentCloud.Benchmarks;

/// <summary>The settings the function app under test gets, in place of a local.settings.json.</summary>
internal static class AppSettings
{
    /// <summary>40 characters, as a real master key; nothing here calls an admin function.</summary>
    public const string DummyMasterKey = "benchmark-master-key-not-secret-00000000";

    /// <summary>
    /// The safe local values of local.settings.sample.json (every setting the app reads, so a feature
    /// that adds a required setting does not stop the benchmark), then the benchmark's own storage,
    /// port and master key. Names as environment variables spell them (<c>__</c> between sections).
    /// </summary>
    public static Dictionary<string, string> For(string storageConnectionString, int port)
    {
        var values = Sample();
        values["AzureWebJobsStorage"] = storageConnectionString;
        values["FUNCTIONS_HTTP_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        values["FUNCTIONS_MASTER_KEY"] = DummyMasterKey;
        return values;
    }

    private static Dictionary<string, string> Sample()
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var path = Path.Combine(RepositoryRoot.Path, "local.settings.sample.json");
        if (!File.Exists(path))
        {
            return values;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (document.RootElement.TryGetProperty("Values", out var settings) && settings.ValueKind == JsonValueKind.Object)
            {
                foreach (var setting in settings.EnumerateObject())
                {
                    values[setting.Name] = setting.Value.ValueKind == JsonValueKind.String ? setting.Value.GetString() ?? "" : setting.Value.GetRawText();
                }
            }
        }
        catch (JsonException ex)
        {
            throw new BenchmarkException($"reading {path}", ex);
        }

        return values;
    }
}
