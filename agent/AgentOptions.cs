using DecentCloud.Shared.Signing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace DecentCloud.Agent;

/// <summary>
/// What dc-agent reads from its TOML config file and <c>DC_AGENT_</c> variables. Keys are snake_case so that the file
/// and the environment (<c>DC_AGENT_POLL_INTERVAL_SECONDS</c>, <c>DC_AGENT_MANUAL__NOTIFY_WEBHOOK</c>) spell them alike.
/// Relative file paths are taken from the config file's folder.
/// </summary>
internal sealed class AgentOptions
{
    public const string ApiBaseUrlKey = "api_base_url";
    public const string ProviderPubkeyKey = "provider_pubkey";
    public const string AgentKeyFileKey = "agent_key_file";
    public const string StateFileKey = "state_file";
    public const string ProvisionerKey = "provisioner";
    public const string PollIntervalKey = "poll_interval_seconds";
    public const string HeartbeatIntervalKey = "heartbeat_interval_seconds";
    public const string HealthCheckIntervalKey = "health_check_interval_seconds";
    public const string ManualSection = "manual";
    public const string LoggingSection = "Logging";

    /// <summary>Every key dc-agent reads at the top level of its configuration (each provisioner's section too); anything else is a typo.</summary>
    public static IReadOnlyList<string> Keys { get; } =
    [
        ApiBaseUrlKey, ProviderPubkeyKey, AgentKeyFileKey, StateFileKey, ProvisionerKey,
        PollIntervalKey, HeartbeatIntervalKey, HealthCheckIntervalKey, LoggingSection,
        .. Provisioners.ProvisionerKinds.All.Select(kind => kind.Name),
    ];

    [ConfigurationKeyName(ApiBaseUrlKey)]
    public Uri ApiBaseUrl { get; set; } = new("http://127.0.0.1:7071/api");

    /// <summary>The provider this agent works for: the hex public key its delegation comes from.</summary>
    [ConfigurationKeyName(ProviderPubkeyKey)]
    public string ProviderPubkey { get; set; } = "";

    [ConfigurationKeyName(AgentKeyFileKey)]
    public string AgentKeyFile { get; set; } = "agent.key";

    [ConfigurationKeyName(StateFileKey)]
    public string StateFile { get; set; } = "dc-agent-state.json";

    [ConfigurationKeyName(ProvisionerKey)]
    public string Provisioner { get; set; } = Provisioners.ManualProvisioner.Name;

    [ConfigurationKeyName(PollIntervalKey)]
    public int PollIntervalSeconds { get; set; } = 30;

    [ConfigurationKeyName(HeartbeatIntervalKey)]
    public int HeartbeatIntervalSeconds { get; set; } = 60;

    [ConfigurationKeyName(HealthCheckIntervalKey)]
    public int HealthCheckIntervalSeconds { get; set; } = 300;

    [ConfigurationKeyName(ManualSection)]
    public ManualOptions Manual { get; set; } = new();

    public TimeSpan PollInterval => TimeSpan.FromSeconds(PollIntervalSeconds);
    public TimeSpan HeartbeatInterval => TimeSpan.FromSeconds(HeartbeatIntervalSeconds);
    public TimeSpan HealthCheckInterval => TimeSpan.FromSeconds(HealthCheckIntervalSeconds);

    /// <summary>Makes the file settings absolute, relative to <paramref name="baseDirectory"/> (the config file's folder).</summary>
    public void ResolvePaths(string baseDirectory)
    {
        AgentKeyFile = string.IsNullOrWhiteSpace(AgentKeyFile) ? AgentKeyFile : Path.GetFullPath(AgentKeyFile, baseDirectory);
        StateFile = string.IsNullOrWhiteSpace(StateFile) ? StateFile : Path.GetFullPath(StateFile, baseDirectory);
    }
}

/// <summary>The Manual provisioner's section, <c>[manual]</c>: how the provider is told about new work.</summary>
internal sealed class ManualOptions
{
    public const string NotifyCommandKey = "notify_command";
    public const string NotifyWebhookKey = "notify_webhook";
    public const string HealthCheckTimeoutKey = "health_check_timeout_seconds";

    public static IReadOnlyList<string> Keys { get; } = [NotifyCommandKey, NotifyWebhookKey, HealthCheckTimeoutKey];

    /// <summary>A program and its arguments, run for each new contract (not through a shell).</summary>
    [ConfigurationKeyName(NotifyCommandKey)]
    public string[] NotifyCommand { get; set; } = [];

    [ConfigurationKeyName(NotifyWebhookKey)]
    public Uri? NotifyWebhook { get; set; }

    [ConfigurationKeyName(HealthCheckTimeoutKey)]
    public int HealthCheckTimeoutSeconds { get; set; } = 5;
}

/// <summary>Refuses settings the agent cannot run with, naming the key so the provider knows what to fix.</summary>
internal sealed class AgentOptionsValidator(IConfiguration configuration) : IValidateOptions<AgentOptions>
{
    // docs/agent.md (settings): an agent is online while its last heartbeat is less than 5 minutes old, so a
    // longer heartbeat interval would show a healthy agent as offline between heartbeats.
    private const int OnlineWindowSeconds = 300;
    private const int OneDaySeconds = 24 * 60 * 60;

    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        var failures = new List<string>();

        foreach (var key in configuration.GetChildren().Select(section => section.Key))
        {
            if (!AgentOptions.Keys.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                failures.Add($"'{key}' is not a dc-agent setting (check the config file and the {Program.EnvironmentPrefix} variables); "
                    + $"known settings: {string.Join(", ", AgentOptions.Keys)}");
            }
        }
        // The binder turns an empty value into null, whatever the property's annotation says.
        if (options.ApiBaseUrl is not { IsAbsoluteUri: true } url || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            failures.Add($"{AgentOptions.ApiBaseUrlKey} must be an absolute http:// or https:// URL, such as http://127.0.0.1:7071/api");
        }
        else if (!string.IsNullOrEmpty(url.UserInfo) || !string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.Fragment))
        {
            // Requests are signed with the agent's key; a password, query or fragment in the base URL is a mistake.
            failures.Add($"{AgentOptions.ApiBaseUrlKey} must not contain user info, a query or a fragment");
        }

        if (!Ed25519phPublicKey.TryParse(options.ProviderPubkey, out _, out var keyError))
        {
            failures.Add($"{AgentOptions.ProviderPubkeyKey} must be the provider's public key (64 hex characters): {keyError}");
        }
        if (string.IsNullOrWhiteSpace(options.AgentKeyFile))
        {
            failures.Add($"{AgentOptions.AgentKeyFileKey} must name the agent's key file (dc-agent init writes one)");
        }
        if (string.IsNullOrWhiteSpace(options.StateFile))
        {
            failures.Add($"{AgentOptions.StateFileKey} must name a file the agent may write its state to");
        }
        if (Provisioners.ProvisionerKinds.Find(options.Provisioner) is null)
        {
            failures.Add($"{AgentOptions.ProvisionerKey} must be one of: {string.Join(", ", Provisioners.ProvisionerKinds.All.Select(kind => kind.Name))}; got '{options.Provisioner}'");
        }
        else
        {
            ValidateProvisioners(failures, options.Provisioner);
        }

        CheckRange(failures, AgentOptions.PollIntervalKey, options.PollIntervalSeconds, 1, 3600);
        CheckRange(failures, AgentOptions.HeartbeatIntervalKey, options.HeartbeatIntervalSeconds, 1, OnlineWindowSeconds - 1);
        CheckRange(failures, AgentOptions.HealthCheckIntervalKey, options.HealthCheckIntervalSeconds, 1, OneDaySeconds);

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Each provisioner in use checks its own section; an offering may be named by one provisioner only.</summary>
    private void ValidateProvisioners(List<string> failures, string defaultName)
    {
        var claimedBy = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var kind in Provisioners.ProvisionerKinds.InUse(configuration, defaultName))
        {
            failures.AddRange(kind.Validate(configuration.GetSection(kind.Name)));
            foreach (var offering in Provisioners.ProvisionerKinds.OfferingIds(configuration, kind))
            {
                if (claimedBy.TryGetValue(offering, out var other))
                {
                    failures.Add($"offering '{offering}' is named by both [{other}.{Provisioners.ProvisionerKinds.OfferingsKey}] and [{kind.Name}.{Provisioners.ProvisionerKinds.OfferingsKey}]; one provisioner must own it");
                }
                else
                {
                    claimedBy[offering] = kind.Name;
                }
            }
        }
    }

    private static void CheckRange(List<string> failures, string key, int seconds, int min, int max)
    {
        if (seconds < min || seconds > max)
        {
            failures.Add($"{key} must be between {min} and {max} seconds; got {seconds}");
        }
    }
}
