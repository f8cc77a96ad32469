using System.Globalization;
using System.Text.RegularExpressions;

namespace DecentCloud.FunctionsHost.Configuration;

/// <summary>
/// The settings of one run: host.json (under <c>AzureFunctionsJobHost</c>), then local.settings.json <c>Values</c>, then
/// environment variables, then the settings the caller gives (a test's), each overriding the one before. The worker sees
/// the same settings: local.settings.json's and the caller's are put into its environment, the rest it inherits.
/// </summary>
internal sealed partial class HostSettings
{
    public const string AddressSetting = "FUNCTIONS_HTTP_ADDRESS";
    public const string PortSetting = "FUNCTIONS_HTTP_PORT";
    public const string HostIdSetting = "FUNCTIONS_HOST_ID";
    public const string StorageSetting = "AzureWebJobsStorage";
    public const int DefaultPort = 7071;

    private HostSettings(IConfigurationRoot configuration, Dictionary<string, string> workerEnvironment, string defaultHostId)
    {
        Configuration = configuration;
        WorkerEnvironment = workerEnvironment;
        Address = configuration[AddressSetting] is { Length: > 0 } address ? address : "127.0.0.1";
        Port = ReadPort(configuration[PortSetting]);
        HostId = configuration[HostIdSetting] is { Length: > 0 } hostId ? hostId : defaultHostId;
        if (!HostIdPattern().IsMatch(HostId))
        {
            throw new InvalidOperationException($"The setting {HostIdSetting} is '{HostId}'; it must be 1-32 lower-case letters, digits or hyphens.");
        }
    }

    public IConfigurationRoot Configuration { get; }

    /// <summary>Settings the worker process gets in its environment, beside what it inherits from the host's.</summary>
    public IReadOnlyDictionary<string, string> WorkerEnvironment { get; }

    /// <summary>The address the HTTP triggers listen on (<c>FUNCTIONS_HTTP_ADDRESS</c>, loopback by default).</summary>
    public string Address { get; }

    /// <summary>The port the HTTP triggers listen on (<c>FUNCTIONS_HTTP_PORT</c> or <c>Host.LocalHttpPort</c>; 0 picks a free one).</summary>
    public int Port { get; }

    /// <summary>
    /// Names the timer status and lock blobs, as the Functions host id does: every instance of one app shares it, two apps
    /// on one storage account must not. Defaults to the app's assembly name.
    /// </summary>
    public string HostId { get; }

    /// <param name="readLocalSettings">Whether local.settings.json in the app's folder is read (not for tests, which give every setting).</param>
    public static HostSettings Load(string appDirectory, string appName, IReadOnlyDictionary<string, string?> overrides, bool readLocalSettings = true)
    {
        // As Core Tools does, a file value whose name the environment already has is skipped: the environment wins, for the
        // host and for the worker (which would otherwise get the file's value in its environment over the inherited one).
        var local = (readLocalSettings ? LocalSettings.Load(appDirectory) : new Dictionary<string, string?>())
            .Where(setting => Environment.GetEnvironmentVariable(EnvironmentName(setting.Key)) is null)
            .ToDictionary(StringComparer.OrdinalIgnoreCase);
        var configuration = new ConfigurationBuilder()
            .Add(HostJson.Load(appDirectory))
            .AddInMemoryCollection(local.Select(setting => KeyValuePair.Create(ConfigurationKey(setting.Key), setting.Value)))
            .AddEnvironmentVariables()
            .AddInMemoryCollection(overrides.Select(setting => KeyValuePair.Create(ConfigurationKey(setting.Key), setting.Value)))
            .Build();

        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in local.Concat(overrides))
        {
            // A null setting is not set at all, whatever an earlier source said.
            if (value is null)
            {
                environment.Remove(EnvironmentName(name));
            }
            else
            {
                environment[EnvironmentName(name)] = value;
            }
        }

        return new HostSettings(configuration, environment, DefaultHostId(appName));
    }

    /// <summary>Resolves a trigger or binding argument written <c>%SETTING%</c>, as the Functions host does.</summary>
    public string Resolve(string value, string function)
    {
        if (value.Length > 2 && value[0] == '%' && value[^1] == '%')
        {
            var setting = value[1..^1];
            var resolved = Configuration[ConfigurationKey(setting)];
            return string.IsNullOrWhiteSpace(resolved)
                ? throw new InvalidOperationException($"Function {function} names the setting {setting} ({value}), which is not set.")
                : resolved;
        }

        return value;
    }

    /// <summary>
    /// <c>AzureWebJobs.{function}.Disabled</c> (or <c>AzureWebJobs__{function}__Disabled</c> where a name cannot hold
    /// dots) set to true turns a function off: no route, no listener, no schedule.
    /// </summary>
    public bool IsDisabled(string function) =>
        bool.TryParse(Configuration[$"AzureWebJobs.{function}.Disabled"] ?? Configuration[$"AzureWebJobs:{function}:Disabled"], out var disabled) && disabled;

    /// <summary>
    /// The storage connection string a binding's <c>connection</c> names (<c>AzureWebJobsStorage</c> when it names none):
    /// the setting of that name, else <c>AzureWebJobs{connection}</c>, as the Functions host looks them up.
    /// </summary>
    public string StorageConnection(string? connection, string function)
    {
        var name = string.IsNullOrEmpty(connection) ? StorageSetting : connection;
        var value = Configuration[ConfigurationKey(name)];
        if (string.IsNullOrWhiteSpace(value) && !name.StartsWith("AzureWebJobs", StringComparison.Ordinal))
        {
            value = Configuration[ConfigurationKey("AzureWebJobs" + name)];
        }

        return string.IsNullOrWhiteSpace(value)
            ? throw new InvalidOperationException($"Function {function} uses the storage connection {name}, but the setting {name} is not set (a storage connection string; UseDevelopmentStorage=true for Azurite on its default ports).")
            : value;
    }

    /// <summary>A setting name as configuration keys it: <c>__</c> separates sections, as in environment variables.</summary>
    public static string ConfigurationKey(string name) => name.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal);

    private static string EnvironmentName(string name) => name.Replace(ConfigurationPath.KeyDelimiter, "__", StringComparison.Ordinal);

    private static int ReadPort(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return DefaultPort;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535
            ? port
            : throw new InvalidOperationException($"The setting {PortSetting} is '{value}'; it must be a port number (0 picks a free one).");
    }

    private static string DefaultHostId(string appName)
    {
        var id = InvalidHostIdCharacters().Replace(appName.ToLowerInvariant(), "-").Trim('-');
        id = id.Length > 32 ? id[..32].TrimEnd('-') : id;
        return id.Length > 0 ? id : "functions";
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,31}$")]
    private static partial Regex HostIdPattern();

    [GeneratedRegex("[^a-z0-9-]+")]
    private static partial Regex InvalidHostIdCharacters();
}
