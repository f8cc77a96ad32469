using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace DecentCloud.Agent;

/// <summary>
/// What dc-agent reads at start-up. Keys are snake_case so that the config file and the
/// environment (<c>DC_AGENT_POLL_INTERVAL_SECONDS</c>) spell them the same way.
/// </summary>
internal sealed class AgentOptions
{
    public const string ApiBaseUrlKey = "api_base_url";
    public const string PollIntervalKey = "poll_interval_seconds";
    public const string HeartbeatIntervalKey = "heartbeat_interval_seconds";
    public const string HealthCheckIntervalKey = "health_check_interval_seconds";

    /// <summary>Every key dc-agent reads at the top level of its configuration; anything else is a typo.</summary>
    public static IReadOnlyList<string> Keys { get; } =
        [ApiBaseUrlKey, PollIntervalKey, HeartbeatIntervalKey, HealthCheckIntervalKey, "Logging"];

    [ConfigurationKeyName(ApiBaseUrlKey)]
    public Uri ApiBaseUrl { get; set; } = new("http://127.0.0.1:7071/api");

    [ConfigurationKeyName(PollIntervalKey)]
    public int PollIntervalSeconds { get; set; } = 30;

    [ConfigurationKeyName(HeartbeatIntervalKey)]
    public int HeartbeatIntervalSeconds { get; set; } = 60;

    [ConfigurationKeyName(HealthCheckIntervalKey)]
    public int HealthCheckIntervalSeconds { get; set; } = 300;

    public TimeSpan PollInterval => TimeSpan.FromSeconds(PollIntervalSeconds);
    public TimeSpan HeartbeatInterval => TimeSpan.FromSeconds(HeartbeatIntervalSeconds);
    public TimeSpan HealthCheckInterval => TimeSpan.FromSeconds(HealthCheckIntervalSeconds);
}

/// <summary>Refuses settings the agent cannot run with, naming the key so the provider knows what to fix.</summary>
internal sealed class AgentOptionsValidator(IConfiguration configuration) : IValidateOptions<AgentOptions>
{
    // docs/agent.md (settings): a provider is online while its last heartbeat is less than 5 minutes old, so a
    // longer heartbeat interval would show a healthy provider as offline between heartbeats.
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
            // Requests are signed with the provider's key; a password, query or fragment in the base URL is a mistake.
            failures.Add($"{AgentOptions.ApiBaseUrlKey} must not contain user info, a query or a fragment");
        }

        CheckRange(failures, AgentOptions.PollIntervalKey, options.PollIntervalSeconds, 1, 3600);
        CheckRange(failures, AgentOptions.HeartbeatIntervalKey, options.HeartbeatIntervalSeconds, 1, OnlineWindowSeconds - 1);
        CheckRange(failures, AgentOptions.HealthCheckIntervalKey, options.HealthCheckIntervalSeconds, 1, OneDaySeconds);

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckRange(List<string> failures, string key, int seconds, int min, int max)
    {
        if (seconds < min || seconds > max)
        {
            failures.Add($"{key} must be between {min} and {max} seconds; got {seconds}");
        }
    }
}
