namespace DecentCloud.Functions.Hosting.Configuration;

/// <summary>
/// The function app's root: the folder that holds host.json (and, locally, local.settings.json),
/// found the way the Functions host finds it: <c>AzureWebJobsScriptRoot</c> if set, else the
/// current folder or the nearest parent with a host.json, else the folder of the app's binaries.
/// </summary>
public static class ScriptRoot
{
    public const string SettingName = "AzureWebJobsScriptRoot";

    public static string Find(string? explicitRoot = null)
    {
        var configured = explicitRoot ?? Environment.GetEnvironmentVariable(SettingName);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            var full = Path.GetFullPath(configured);
            if (!File.Exists(Path.Combine(full, HostJson.FileName)))
            {
                throw new InvalidOperationException($"{SettingName} is '{full}', but that folder holds no {HostJson.FileName}.");
            }

            return full;
        }

        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, HostJson.FileName)))
            {
                return dir.FullName;
            }
        }

        if (File.Exists(Path.Combine(AppContext.BaseDirectory, HostJson.FileName)))
        {
            return AppContext.BaseDirectory;
        }

        throw new InvalidOperationException(
            $"No {HostJson.FileName} found in '{Directory.GetCurrentDirectory()}', its parents or '{AppContext.BaseDirectory}'. Set {SettingName} to the function app's folder.");
    }
}
