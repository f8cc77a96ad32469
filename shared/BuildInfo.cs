using System.Reflection;

namespace DecentCloud.Shared;

/// <summary>The version every Decent Cloud component reports (health endpoint, agent banner, user agent).</summary>
public static class BuildInfo
{
    public static string Version { get; } = ReadVersion(typeof(BuildInfo).Assembly);

    public static string ReadVersion(Assembly assembly)
    {
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        return informational ?? assembly.GetName().Version?.ToString() ?? "0.0.0";
    }
}
