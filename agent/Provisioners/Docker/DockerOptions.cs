using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;

namespace DecentCloud.Agent.Provisioners.Docker;

/// <summary>
/// The Docker provisioner's section, <c>[docker]</c>: where the Engine API listens, how long calls may take, the address
/// renters reach the containers on, and per offering (<c>[docker.offerings."&lt;id&gt;"]</c>) the image and its limits.
/// </summary>
internal sealed class DockerOptions
{
    public const string EndpointKey = "endpoint";
    public const string TlsCaFileKey = "tls_ca_file";
    public const string TlsCertFileKey = "tls_cert_file";
    public const string TlsKeyFileKey = "tls_key_file";
    public const string PublicHostKey = "public_host";
    public const string SshPortRangeKey = "ssh_port_range";
    public const string PullTimeoutKey = "pull_timeout_seconds";
    public const string RequestTimeoutKey = "request_timeout_seconds";
    public const string StopTimeoutKey = "stop_timeout_seconds";

    public const string DefaultEndpoint = "unix:///var/run/docker.sock";

    public static IReadOnlyList<string> Keys { get; } =
    [
        EndpointKey, TlsCaFileKey, TlsCertFileKey, TlsKeyFileKey, PublicHostKey, SshPortRangeKey,
        PullTimeoutKey, RequestTimeoutKey, StopTimeoutKey, ProvisionerKinds.OfferingsKey,
    ];

    /// <summary><c>unix:///path/to/docker.sock</c> or <c>tcp://host:port</c> (with TLS when the three TLS files are set).</summary>
    [ConfigurationKeyName(EndpointKey)]
    public string Endpoint { get; set; } = DefaultEndpoint;

    /// <summary>The CA that signed the daemon's certificate (PEM); the daemon's certificate must chain to it.</summary>
    [ConfigurationKeyName(TlsCaFileKey)]
    public string? TlsCaFile { get; set; }

    /// <summary>The agent's client certificate (PEM), as <c>dockerd --tlsverify</c> requires.</summary>
    [ConfigurationKeyName(TlsCertFileKey)]
    public string? TlsCertFile { get; set; }

    [ConfigurationKeyName(TlsKeyFileKey)]
    public string? TlsKeyFile { get; set; }

    /// <summary>The address renters connect to (the Docker host's public IPv4, IPv6 or DNS name); reported with each container.</summary>
    [ConfigurationKeyName(PublicHostKey)]
    public string PublicHost { get; set; } = "";

    /// <summary>Host ports the SSH port is published on, <c>first-last</c> (Docker picks a free one); empty: any free port.</summary>
    [ConfigurationKeyName(SshPortRangeKey)]
    public string SshPortRange { get; set; } = "";

    [ConfigurationKeyName(PullTimeoutKey)]
    public int PullTimeoutSeconds { get; set; } = 600;

    [ConfigurationKeyName(RequestTimeoutKey)]
    public int RequestTimeoutSeconds { get; set; } = 30;

    /// <summary>How long a stop waits for the container to exit before Docker kills it (the <c>t</c> of the stop call).</summary>
    [ConfigurationKeyName(StopTimeoutKey)]
    public int StopTimeoutSeconds { get; set; } = 10;

    [ConfigurationKeyName(ProvisionerKinds.OfferingsKey)]
    public Dictionary<string, DockerOfferingOptions> Offerings { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Makes the TLS file paths absolute, relative to the config file's folder.</summary>
    public DockerOptions ResolvePaths(string baseDirectory)
    {
        TlsCaFile = Resolve(TlsCaFile);
        TlsCertFile = Resolve(TlsCertFile);
        TlsKeyFile = Resolve(TlsKeyFile);
        return this;

        string? Resolve(string? path) => string.IsNullOrWhiteSpace(path) ? null : Path.GetFullPath(path, baseDirectory);
    }

    /// <summary>The TLS files, when all three are set.</summary>
    public bool UsesTls => TlsCaFile is not null && TlsCertFile is not null && TlsKeyFile is not null;

    /// <summary>The parsed port range, or null for any free port.</summary>
    public (int First, int Last)? PortRange =>
        TryParseRange(SshPortRange, out var range) ? range : null;

    public static bool TryParseRange(string text, out (int First, int Last) range)
    {
        range = default;
        var parts = text.Split('-');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            || first is < 1 or > 65535 || last is < 1 or > 65535 || first > last)
        {
            return false;
        }
        range = (first, last);
        return true;
    }

    /// <summary>Checks the section; one message per problem, each naming its key (<c>docker.key</c>, <c>docker.offerings.&lt;id&gt;.key</c>).</summary>
    public static IEnumerable<string> Validate(IConfigurationSection section)
    {
        const string name = DockerProvisioner.Name;
        foreach (var unknown in ProvisionerKinds.UnknownKeys(section, Keys))
        {
            yield return unknown;
        }

        // The offerings are checked one by one below, with messages naming their keys.
        DockerOptions? options = null;
        string? bindError = null;
        try
        {
            options = section.Get<DockerOptions>(binder => binder.ErrorOnUnknownConfiguration = false) ?? new DockerOptions();
        }
        catch (InvalidOperationException ex)
        {
            bindError = $"{name} has a value of the wrong type: {ex.Message}";
        }
        if (options is null)
        {
            yield return bindError!;
            yield break;
        }

        if (!Uri.TryCreate(options.Endpoint, UriKind.Absolute, out var endpoint)
            || (endpoint.Scheme != "unix" && endpoint.Scheme != "tcp")
            || (endpoint.Scheme == "unix" && endpoint.AbsolutePath.Length <= 1)
            || (endpoint.Scheme == "tcp" && (endpoint.Host.Length == 0 || endpoint.IsDefaultPort)))
        {
            yield return $"{name}.{EndpointKey} must be unix:///<path of the socket> or tcp://<host>:<port>; got '{options.Endpoint}'";
        }
        else if (endpoint.Scheme == "unix" && (options.TlsCaFile ?? options.TlsCertFile ?? options.TlsKeyFile) is not null)
        {
            yield return $"{name}.{TlsCaFileKey}, {TlsCertFileKey} and {TlsKeyFileKey} apply to a tcp:// endpoint only";
        }

        var tlsFiles = new[] { (TlsCaFileKey, options.TlsCaFile), (TlsCertFileKey, options.TlsCertFile), (TlsKeyFileKey, options.TlsKeyFile) };
        var tlsSet = tlsFiles.Count(file => !string.IsNullOrWhiteSpace(file.Item2));
        if (tlsSet is not (0 or 3))
        {
            yield return $"{name}.{TlsCaFileKey}, {TlsCertFileKey} and {TlsKeyFileKey} go together: set all three or none";
        }

        if (string.IsNullOrWhiteSpace(options.PublicHost))
        {
            yield return $"{name}.{PublicHostKey} must be the address renters reach the Docker host on (an IPv4, IPv6 or DNS name)";
        }
        else if (!IPAddress.TryParse(options.PublicHost, out _) && Uri.CheckHostName(options.PublicHost) != UriHostNameType.Dns)
        {
            yield return $"{name}.{PublicHostKey} must be an IPv4 or IPv6 address or a DNS name; got '{options.PublicHost}'";
        }

        if (options.SshPortRange.Length > 0 && !TryParseRange(options.SshPortRange, out _))
        {
            yield return $"{name}.{SshPortRangeKey} must be '<first>-<last>' with ports 1 to 65535, first not above last; got '{options.SshPortRange}'";
        }

        foreach (var problem in Range(PullTimeoutKey, options.PullTimeoutSeconds, 1, 3600)
            .Concat(Range(RequestTimeoutKey, options.RequestTimeoutSeconds, 1, 300))
            .Concat(Range(StopTimeoutKey, options.StopTimeoutSeconds, 0, 300)))
        {
            yield return problem;
        }

        var offerings = section.GetSection(ProvisionerKinds.OfferingsKey);
        foreach (var offering in offerings.GetChildren())
        {
            foreach (var problem in DockerOfferingOptions.Validate(offering))
            {
                yield return problem;
            }
        }

        static IEnumerable<string> Range(string key, int value, int min, int max)
        {
            if (value < min || value > max)
            {
                yield return $"{name}.{key} must be between {min} and {max} seconds; got {value}";
            }
        }
    }
}

/// <summary>
/// One offering's container, <c>[docker.offerings."&lt;id&gt;"]</c>: the image, its limits, and how the image is told the
/// SSH user, password and key (environment variables whose names the image's own documentation gives).
/// </summary>
internal sealed class DockerOfferingOptions
{
    public const string ImageKey = "image";
    public const string CpusKey = "cpus";
    public const string MemoryKey = "memory_mb";
    public const string SshUserKey = "ssh_user";
    public const string SshPortKey = "ssh_port";
    public const string UserEnvKey = "user_env";
    public const string PasswordEnvKey = "password_env";
    public const string SshKeyEnvKey = "ssh_key_env";
    public const string EnvKey = "env";

    public static IReadOnlyList<string> Keys { get; } =
        [ImageKey, CpusKey, MemoryKey, SshUserKey, SshPortKey, UserEnvKey, PasswordEnvKey, SshKeyEnvKey, EnvKey];

    /// <summary>The image reference, <c>registry/repository:tag</c> or <c>...@sha256:...</c>; without a tag, <c>latest</c>.</summary>
    [ConfigurationKeyName(ImageKey)]
    public string Image { get; set; } = "";

    /// <summary>CPUs the container may use (fractions allowed), sent as <c>NanoCpus</c>.</summary>
    [ConfigurationKeyName(CpusKey)]
    public double Cpus { get; set; } = 1;

    /// <summary>Memory limit in MiB, sent as <c>Memory</c> in bytes.</summary>
    [ConfigurationKeyName(MemoryKey)]
    public long MemoryMb { get; set; } = 1024;

    [ConfigurationKeyName(SshUserKey)]
    public string SshUser { get; set; } = "root";

    /// <summary>The port sshd listens on inside the container; published to a host port.</summary>
    [ConfigurationKeyName(SshPortKey)]
    public int SshPort { get; set; } = 22;

    [ConfigurationKeyName(UserEnvKey)]
    public string UserEnv { get; set; } = "DC_SSH_USER";

    [ConfigurationKeyName(PasswordEnvKey)]
    public string PasswordEnv { get; set; } = "DC_SSH_PASSWORD";

    [ConfigurationKeyName(SshKeyEnvKey)]
    public string SshKeyEnv { get; set; } = "DC_SSH_AUTHORIZED_KEYS";

    /// <summary>More environment variables the image needs (e.g. <c>PASSWORD_ACCESS = "true"</c>).</summary>
    [ConfigurationKeyName(EnvKey)]
    public Dictionary<string, string> Env { get; set; } = new(StringComparer.Ordinal);

    public long NanoCpus => (long)Math.Round(Cpus * 1_000_000_000d);

    public long MemoryBytes => MemoryMb * 1024 * 1024;

    public static IEnumerable<string> Validate(IConfigurationSection section)
    {
        var at = $"{DockerProvisioner.Name}.{ProvisionerKinds.OfferingsKey}.{section.Key}";
        foreach (var child in section.GetChildren().Where(child => !Keys.Contains(child.Key, StringComparer.OrdinalIgnoreCase)))
        {
            yield return $"'{at}.{child.Key}' is not a setting of a docker offering; known: {string.Join(", ", Keys)}";
        }

        DockerOfferingOptions? options = null;
        string? bindError = null;
        try
        {
            options = section.Get<DockerOfferingOptions>() ?? new DockerOfferingOptions();
        }
        catch (InvalidOperationException ex)
        {
            bindError = $"{at} has a value of the wrong type: {ex.Message}";
        }
        if (options is null)
        {
            yield return bindError!;
            yield break;
        }

        if (string.IsNullOrWhiteSpace(options.Image) || options.Image.Any(char.IsWhiteSpace))
        {
            yield return $"{at}.{ImageKey} must name the image to run, such as ghcr.io/example/ubuntu-ssh:24.04";
        }
        if (!(options.Cpus > 0 && options.Cpus <= 1024))
        {
            yield return $"{at}.{CpusKey} must be above 0 and at most 1024; got {options.Cpus.ToString(CultureInfo.InvariantCulture)}";
        }
        // Docker refuses a memory limit under 6 MiB.
        if (options.MemoryMb is < 6 or > 16 * 1024 * 1024)
        {
            yield return $"{at}.{MemoryKey} must be between 6 and {16 * 1024 * 1024} MiB; got {options.MemoryMb}";
        }
        if (options.SshPort is < 1 or > 65535)
        {
            yield return $"{at}.{SshPortKey} must be a port, 1 to 65535; got {options.SshPort}";
        }
        if (string.IsNullOrWhiteSpace(options.SshUser) || options.SshUser.Any(char.IsWhiteSpace))
        {
            yield return $"{at}.{SshUserKey} must be a user name without spaces";
        }
        foreach (var (key, value) in new[] { (UserEnvKey, options.UserEnv), (PasswordEnvKey, options.PasswordEnv), (SshKeyEnvKey, options.SshKeyEnv) }
            .Concat(options.Env.Keys.Select(variable => ($"{EnvKey}.{variable}", variable))))
        {
            if (!IsVariableName(value))
            {
                yield return $"{at}.{key} must be an environment variable name (letters, digits, '_', not starting with a digit); got '{value}'";
            }
        }
    }

    private static bool IsVariableName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
