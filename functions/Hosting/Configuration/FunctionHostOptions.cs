using System.ComponentModel.DataAnnotations;

namespace DecentCloud.Functions.Hosting.Configuration;

/// <summary>Where the host listens and how it names itself in shared storage.</summary>
public sealed class FunctionHostOptions
{
    public const string PortSetting = "FUNCTIONS_HTTP_PORT";
    public const string AddressSetting = "FUNCTIONS_HTTP_ADDRESS";
    public const string HostIdSetting = "FUNCTIONS_HOST_ID";

    /// <summary>Port of the HTTP listener (local.settings.json <c>Host.LocalHttpPort</c> sets it too). 0 picks a free one.</summary>
    [ConfigurationKeyName(PortSetting)]
    [Range(0, 65535)]
    public int Port { get; set; } = 7071;

    /// <summary>Address the HTTP listener binds to; loopback by default, <c>0.0.0.0</c> in a container.</summary>
    [ConfigurationKeyName(AddressSetting)]
    [Required]
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>
    /// Names this app's timer status and lock blobs, like the Functions host id: every instance of one
    /// app shares it, two apps on one storage account must not.
    /// </summary>
    [ConfigurationKeyName(HostIdSetting)]
    [Required]
    [RegularExpression("^[a-z0-9][a-z0-9-]{0,31}$", ErrorMessage = "FUNCTIONS_HOST_ID must be 1-32 lower-case letters, digits or hyphens.")]
    public string HostId { get; set; } = "decentcloud";
}
