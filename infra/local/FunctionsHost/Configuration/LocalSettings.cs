using System.Text.Json;

namespace DecentCloud.FunctionsHost.Configuration;

/// <summary>
/// local.settings.json in the app's folder, as Core Tools reads it: each entry of <c>Values</c> is a setting of the host
/// and, through its environment, of the worker; <c>Host.LocalHttpPort</c> sets the HTTP port.
/// </summary>
internal static class LocalSettings
{
    public const string FileName = "local.settings.json";

    /// <summary>The settings of the file (names as written, <c>__</c> included); empty when there is no file.</summary>
    public static Dictionary<string, string?> Load(string appDirectory)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var path = Path.Combine(appDirectory, FileName);
        if (!File.Exists(path))
        {
            return values;
        }

        try
        {
            using var stream = File.OpenRead(path);
            using var document = JsonDocument.Parse(stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (document.RootElement.TryGetProperty("Values", out var settings) && settings.ValueKind == JsonValueKind.Object)
            {
                foreach (var setting in settings.EnumerateObject())
                {
                    values[setting.Name] = setting.Value.ValueKind == JsonValueKind.String ? setting.Value.GetString() : setting.Value.GetRawText();
                }
            }

            if (document.RootElement.TryGetProperty("Host", out var host) && host.TryGetProperty("LocalHttpPort", out var port))
            {
                values.TryAdd(HostSettings.PortSetting, port.ValueKind == JsonValueKind.String ? port.GetString() : port.GetRawText());
            }
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            throw new InvalidOperationException($"reading {path}", ex);
        }

        return values;
    }
}
