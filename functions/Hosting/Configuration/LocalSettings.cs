using System.Text.Json;
using Microsoft.Extensions.Configuration.Memory;

namespace DecentCloud.Functions.Hosting.Configuration;

/// <summary>
/// local.settings.json as Core Tools reads it: each entry of <c>Values</c> is a setting, with
/// <c>__</c> for a section separator, and a real environment variable of the same name wins.
/// <c>Host.LocalHttpPort</c> sets the port. On a developer's machine the file is created from
/// local.settings.sample.json the first time the app runs.
/// </summary>
public static class LocalSettings
{
    public const string FileName = "local.settings.json";
    public const string SampleFileName = "local.settings.sample.json";

    /// <summary>Creates local.settings.json from the sample if it is missing; answers what it did, for the start-up log.</summary>
    public static string? EnsureCreated(string scriptRoot)
    {
        var target = Path.Combine(scriptRoot, FileName);
        var sample = Path.Combine(scriptRoot, SampleFileName);
        if (File.Exists(target) || !File.Exists(sample))
        {
            return null;
        }

        try
        {
            File.Copy(sample, target, overwrite: false);
        }
        catch (IOException) when (File.Exists(target))
        {
            // Another instance created it first; its copy is the same sample.
            return null;
        }

        return $"created {target} from {SampleFileName}";
    }

    public static MemoryConfigurationSource? Load(string scriptRoot)
    {
        var path = Path.Combine(scriptRoot, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        try
        {
            using var stream = File.OpenRead(path);
            using var document = JsonDocument.Parse(stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (document.RootElement.TryGetProperty("Values", out var settings) && settings.ValueKind == JsonValueKind.Object)
            {
                foreach (var setting in settings.EnumerateObject())
                {
                    // Environment variables are a later configuration source, so a real one still wins.
                    var key = setting.Name.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal);
                    values[key] = setting.Value.ValueKind == JsonValueKind.String ? setting.Value.GetString() : setting.Value.GetRawText();
                }
            }

            if (document.RootElement.TryGetProperty("Host", out var host) && host.TryGetProperty("LocalHttpPort", out var port))
            {
                values[FunctionHostOptions.PortSetting] = port.ValueKind == JsonValueKind.String ? port.GetString() : port.GetRawText();
            }
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            throw new InvalidOperationException($"reading {path}", ex);
        }

        return new MemoryConfigurationSource { InitialData = values };
    }
}
