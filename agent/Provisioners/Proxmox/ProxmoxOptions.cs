using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace DecentCloud.Agent.Provisioners.Proxmox;

/// <summary>
/// The <c>[proxmox]</c> section: which Proxmox VE API to call, with which API token, which certificate to trust, and per
/// offering (<c>[proxmox.offerings."&lt;offering id&gt;"]</c>) the template to clone and what the clone gets.
/// </summary>
internal sealed class ProxmoxOptions
{
    public const string ApiUrlKey = "api_url";
    public const string TokenIdKey = "token_id";
    public const string TokenSecretKey = "token_secret";
    public const string TokenSecretFileKey = "token_secret_file";
    public const string FingerprintKey = "fingerprint";
    public const string NodeKey = "node";
    public const string RequestTimeoutKey = "request_timeout_seconds";
    public const string TaskTimeoutKey = "task_timeout_seconds";
    public const string GuestAgentTimeoutKey = "guest_agent_timeout_seconds";

    public static IReadOnlyList<string> Keys { get; } =
    [
        ApiUrlKey, TokenIdKey, TokenSecretKey, TokenSecretFileKey, FingerprintKey, NodeKey,
        RequestTimeoutKey, TaskTimeoutKey, GuestAgentTimeoutKey, ProvisionerKinds.OfferingsKey,
    ];

    /// <summary>The host's API, e.g. <c>https://pve1.example.com:8006</c>; <c>/api2/json</c> is added.</summary>
    [ConfigurationKeyName(ApiUrlKey)]
    public Uri? ApiUrl { get; set; }

    /// <summary><c>USER@REALM!TOKENID</c>, e.g. <c>dc-agent@pve!agent</c>.</summary>
    [ConfigurationKeyName(TokenIdKey)]
    public string TokenId { get; set; } = "";

    /// <summary>The token's secret (a UUID); better from <c>DC_AGENT_PROXMOX__TOKEN_SECRET</c> or <see cref="TokenSecretFile"/>.</summary>
    [ConfigurationKeyName(TokenSecretKey)]
    public string? TokenSecret { get; set; }

    [ConfigurationKeyName(TokenSecretFileKey)]
    public string? TokenSecretFile { get; set; }

    /// <summary>
    /// The SHA-256 fingerprint of the host's certificate (<c>AA:BB:…</c>, 32 bytes), as <c>pvenode cert info</c> prints it.
    /// When set, only that certificate is accepted (Proxmox hosts usually have self-signed ones); when empty, the
    /// system's trusted CAs decide.
    /// </summary>
    [ConfigurationKeyName(FingerprintKey)]
    public string? Fingerprint { get; set; }

    /// <summary>The node offerings clone on unless they name their own.</summary>
    [ConfigurationKeyName(NodeKey)]
    public string? Node { get; set; }

    [ConfigurationKeyName(RequestTimeoutKey)]
    public int RequestTimeoutSeconds { get; set; } = 30;

    /// <summary>How long a task (clone, start, stop, destroy) may run before the agent gives up on it.</summary>
    [ConfigurationKeyName(TaskTimeoutKey)]
    public int TaskTimeoutSeconds { get; set; } = 600;

    /// <summary>How long after the start the QEMU guest agent has to report the VM's address.</summary>
    [ConfigurationKeyName(GuestAgentTimeoutKey)]
    public int GuestAgentTimeoutSeconds { get; set; } = 300;

    [ConfigurationKeyName(ProvisionerKinds.OfferingsKey)]
    public Dictionary<string, ProxmoxOfferingOptions> Offerings { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The node an offering's VMs live on.</summary>
    public string NodeOf(ProxmoxOfferingOptions offering) => offering.Node ?? Node ?? "";
}

/// <summary><c>[proxmox.offerings."&lt;offering id&gt;"]</c>: the template an offering's VMs are cloned from and what they get.</summary>
internal sealed class ProxmoxOfferingOptions
{
    public const string TemplateVmidKey = "template_vmid";
    public const string NodeKey = "node";
    public const string StorageKey = "storage";
    public const string PoolKey = "pool";
    public const string CoresKey = "cores";
    public const string MemoryKey = "memory_mb";
    public const string UserKey = "user";
    public const string IpConfigKey = "ipconfig0";
    public const string NameserverKey = "nameserver";
    public const string SshPortKey = "ssh_port";

    public static IReadOnlyList<string> Keys { get; } =
        [TemplateVmidKey, NodeKey, StorageKey, PoolKey, CoresKey, MemoryKey, UserKey, IpConfigKey, NameserverKey, SshPortKey];

    /// <summary>The VM id of a template (a VM converted to a template) with cloud-init and the QEMU guest agent installed.</summary>
    [ConfigurationKeyName(TemplateVmidKey)]
    public int TemplateVmid { get; set; }

    [ConfigurationKeyName(NodeKey)]
    public string? Node { get; set; }

    /// <summary>Where the full clone's disks go; the template's storage when empty.</summary>
    [ConfigurationKeyName(StorageKey)]
    public string? Storage { get; set; }

    /// <summary>A resource pool the new VMs join (then the token may hold VM.Allocate on the pool instead of on /vms).</summary>
    [ConfigurationKeyName(PoolKey)]
    public string? Pool { get; set; }

    /// <summary>CPU cores; the template's when not set.</summary>
    [ConfigurationKeyName(CoresKey)]
    public int? Cores { get; set; }

    /// <summary>Memory in MiB; the template's when not set.</summary>
    [ConfigurationKeyName(MemoryKey)]
    public int? MemoryMb { get; set; }

    /// <summary>The cloud-init user the renter logs in as.</summary>
    [ConfigurationKeyName(UserKey)]
    public string User { get; set; } = "dc";

    /// <summary>Cloud-init's first interface: <c>ip=dhcp</c>, or <c>ip=&lt;CIDR&gt;,gw=&lt;ip&gt;</c> (and <c>ip6=</c>, <c>gw6=</c>).</summary>
    [ConfigurationKeyName(IpConfigKey)]
    public string IpConfig { get; set; } = "ip=dhcp";

    [ConfigurationKeyName(NameserverKey)]
    public string? Nameserver { get; set; }

    [ConfigurationKeyName(SshPortKey)]
    public int SshPort { get; set; } = 22;
}

/// <summary>Checks the <c>[proxmox]</c> section at start-up, one message per problem, naming each key as <c>proxmox.key</c>.</summary>
internal static partial class ProxmoxSettings
{
    private const string Section = ProxmoxProvisioner.Name;

    public static IEnumerable<string> Validate(IConfigurationSection section)
    {
        foreach (var unknown in ProvisionerKinds.UnknownKeys(section, ProxmoxOptions.Keys))
        {
            yield return unknown;
        }
        foreach (var offering in section.GetSection(ProvisionerKinds.OfferingsKey).GetChildren())
        {
            foreach (var child in offering.GetChildren().Where(c => !ProxmoxOfferingOptions.Keys.Contains(c.Key, StringComparer.OrdinalIgnoreCase)))
            {
                yield return $"'{offering.Path.Replace(':', '.')}.{child.Key}' is not a setting of a {Section} offering; known: {string.Join(", ", ProxmoxOfferingOptions.Keys)}";
            }
        }

        ProxmoxOptions options;
        string? bindError = null;
        try
        {
            options = section.Get<ProxmoxOptions>() ?? new ProxmoxOptions();
        }
        catch (InvalidOperationException ex)
        {
            // A value of the wrong type (template_vmid = "abc"): the binder names the key in its message.
            options = new ProxmoxOptions();
            bindError = $"{Section}: {ex.Message}";
        }
        if (bindError is not null)
        {
            yield return bindError;
            yield break;
        }

        if (options.ApiUrl is not { IsAbsoluteUri: true } url || url.Scheme != Uri.UriSchemeHttps)
        {
            yield return $"{Section}.{ProxmoxOptions.ApiUrlKey} must be the host's https:// address, such as https://pve1.example.com:8006";
        }
        else if (!string.IsNullOrEmpty(url.UserInfo) || !string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.Fragment))
        {
            yield return $"{Section}.{ProxmoxOptions.ApiUrlKey} must not contain user info, a query or a fragment";
        }
        if (!TokenIdPattern().IsMatch(options.TokenId))
        {
            yield return $"{Section}.{ProxmoxOptions.TokenIdKey} must be USER@REALM!TOKENID, such as dc-agent@pve!agent";
        }
        var hasSecret = !string.IsNullOrWhiteSpace(options.TokenSecret);
        var hasFile = !string.IsNullOrWhiteSpace(options.TokenSecretFile);
        if (hasSecret == hasFile)
        {
            yield return $"{Section}: set exactly one of {ProxmoxOptions.TokenSecretKey} (or DC_AGENT_PROXMOX__TOKEN_SECRET) and {ProxmoxOptions.TokenSecretFileKey}";
        }
        if (!string.IsNullOrWhiteSpace(options.Fingerprint) && !FingerprintPattern().IsMatch(options.Fingerprint.Trim()))
        {
            yield return $"{Section}.{ProxmoxOptions.FingerprintKey} must be the certificate's SHA-256 fingerprint as 32 hex pairs separated by ':' (what 'pvenode cert info' prints)";
        }
        if (options.Node is { } node && !NodePattern().IsMatch(node))
        {
            yield return $"{Section}.{ProxmoxOptions.NodeKey} must be a node name (letters, digits, '-'); got '{node}'";
        }
        foreach (var (key, value, min, max) in new[]
        {
            (ProxmoxOptions.RequestTimeoutKey, options.RequestTimeoutSeconds, 1, 300),
            (ProxmoxOptions.TaskTimeoutKey, options.TaskTimeoutSeconds, 10, 7200),
            (ProxmoxOptions.GuestAgentTimeoutKey, options.GuestAgentTimeoutSeconds, 10, 3600),
        })
        {
            if (value < min || value > max)
            {
                yield return $"{Section}.{key} must be between {min} and {max} seconds; got {value}";
            }
        }

        foreach (var (id, offering) in options.Offerings)
        {
            foreach (var problem in ValidateOffering($"{Section}.{ProvisionerKinds.OfferingsKey}.{id}", offering, options.Node))
            {
                yield return problem;
            }
        }
    }

    /// <summary>
    /// The token's secret from the setting or the file; when the file cannot be read, why (every call then fails with
    /// that, and <c>doctor</c> shows it, rather than the agent failing to start).
    /// </summary>
    public static (string? Secret, string? Problem) ReadTokenSecret(ProxmoxOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.TokenSecret))
        {
            return (options.TokenSecret.Trim(), null);
        }
        try
        {
            var secret = File.ReadAllText(options.TokenSecretFile!).Trim();
            return secret.Length > 0 ? (secret, null) : (null, $"{Section}.{ProxmoxOptions.TokenSecretFileKey} '{options.TokenSecretFile}' is empty");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, $"{Section}.{ProxmoxOptions.TokenSecretFileKey} '{options.TokenSecretFile}' cannot be read: {ex.Message}");
        }
    }

    private static IEnumerable<string> ValidateOffering(string key, ProxmoxOfferingOptions offering, string? defaultNode)
    {
        if (offering.TemplateVmid is < 100 or > 999_999_999)
        {
            yield return $"{key}.{ProxmoxOfferingOptions.TemplateVmidKey} must be the VM id of a template (100 to 999999999); got {offering.TemplateVmid}";
        }
        if (offering.Node is null && defaultNode is null)
        {
            yield return $"{key}.{ProxmoxOfferingOptions.NodeKey} (or {Section}.{ProxmoxOptions.NodeKey}) must name the node the template is on";
        }
        else if (offering.Node is { } node && !NodePattern().IsMatch(node))
        {
            yield return $"{key}.{ProxmoxOfferingOptions.NodeKey} must be a node name (letters, digits, '-'); got '{node}'";
        }
        if (offering.Storage is { } storage && !StoragePattern().IsMatch(storage))
        {
            yield return $"{key}.{ProxmoxOfferingOptions.StorageKey} must be a storage id such as local-lvm; got '{storage}'";
        }
        if (offering.Pool is { } pool && !PoolPattern().IsMatch(pool))
        {
            yield return $"{key}.{ProxmoxOfferingOptions.PoolKey} must be a pool id (letters, digits, '-', '_', '.'); got '{pool}'";
        }
        if (offering.Cores is < 1 or > 1024)
        {
            yield return $"{key}.{ProxmoxOfferingOptions.CoresKey} must be between 1 and 1024; got {offering.Cores}";
        }
        if (offering.MemoryMb is < 16)
        {
            yield return $"{key}.{ProxmoxOfferingOptions.MemoryKey} must be at least 16 (MiB); got {offering.MemoryMb}";
        }
        if (!UserPattern().IsMatch(offering.User))
        {
            yield return $"{key}.{ProxmoxOfferingOptions.UserKey} must be a Linux user name (lower case letters, digits, '_', '-'); got '{offering.User}'";
        }
        if (!IpConfigPattern().IsMatch(offering.IpConfig))
        {
            yield return $"{key}.{ProxmoxOfferingOptions.IpConfigKey} must be cloud-init's ipconfig, such as ip=dhcp or ip=203.0.113.10/24,gw=203.0.113.1; got '{offering.IpConfig}'";
        }
        if (offering.SshPort is < 1 or > 65535)
        {
            yield return $"{key}.{ProxmoxOfferingOptions.SshPortKey} must be between 1 and 65535; got {offering.SshPort}";
        }
    }

    [GeneratedRegex(@"^[^\s@!=]+@[^\s@!=]+![A-Za-z][A-Za-z0-9._-]*$")]
    private static partial Regex TokenIdPattern();

    [GeneratedRegex("^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$")]
    private static partial Regex FingerprintPattern();

    [GeneratedRegex("^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$")]
    private static partial Regex NodePattern();

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9\-_.]*[a-zA-Z0-9]$")]
    private static partial Regex StoragePattern();

    [GeneratedRegex(@"^[A-Za-z0-9_\-.]+$")]
    private static partial Regex PoolPattern();

    [GeneratedRegex("^[a-z_][a-z0-9_-]{0,31}$")]
    private static partial Regex UserPattern();

    [GeneratedRegex("^(ip|gw|ip6|gw6)=[0-9A-Za-z.:/]+(,(ip|gw|ip6|gw6)=[0-9A-Za-z.:/]+)*$")]
    private static partial Regex IpConfigPattern();
}
