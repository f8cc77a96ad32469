using System.Globalization;
using Microsoft.Extensions.Configuration;
using Tomlyn;
using Tomlyn.Model;

namespace DecentCloud.Agent.Configuration;

/// <summary>
/// dc-agent's config file in TOML, flattened into configuration keys: a table is a section
/// (<c>[manual] notify_webhook</c> is <c>manual:notify_webhook</c>) and an array's items are numbered (<c>notify_command:0</c>).
/// </summary>
internal sealed class TomlConfigurationSource(string path) : IConfigurationSource
{
    public string Path { get; } = path;

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new TomlConfigurationProvider(Path);
}

internal sealed class TomlConfigurationProvider(string path) : ConfigurationProvider
{
    public override void Load()
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"The config file '{path}' does not exist.", path, ex);
        }

        TomlTable table;
        try
        {
            table = TomlSerializer.Deserialize<TomlTable>(text, new TomlSerializerOptions { SourceName = path })
                ?? throw new InvalidDataException($"The config file '{path}' is empty.");
        }
        catch (TomlException ex)
        {
            throw new InvalidDataException($"The config file '{path}' is not valid TOML:", ex);
        }

        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        Flatten(table, prefix: null, data);
        Data = data;
    }

    private static void Flatten(object? value, string? prefix, Dictionary<string, string?> data)
    {
        switch (value)
        {
            case TomlTable table:
                foreach (var (key, item) in table)
                {
                    Flatten(item, prefix is null ? key : ConfigurationPath.Combine(prefix, key), data);
                }
                break;
            case TomlTableArray tables:
                for (var i = 0; i < tables.Count; i++)
                {
                    Flatten(tables[i], ConfigurationPath.Combine(prefix!, i.ToString(CultureInfo.InvariantCulture)), data);
                }
                break;
            case TomlArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    Flatten(array[i], ConfigurationPath.Combine(prefix!, i.ToString(CultureInfo.InvariantCulture)), data);
                }
                break;
            case bool flag:
                data[prefix!] = flag ? "true" : "false";
                break;
            case IFormattable formattable:
                data[prefix!] = formattable.ToString(null, CultureInfo.InvariantCulture);
                break;
            default:
                data[prefix!] = value?.ToString();
                break;
        }
    }
}
