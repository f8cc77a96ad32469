using Microsoft.Extensions.Configuration;

namespace DecentCloud.Agent.Provisioners.Hetzner;

/// <summary>
/// The Hetzner provisioner's section, <c>[hetzner]</c>: the project's API token and, per offering, what server to make
/// (<c>[hetzner.offerings."&lt;offering id&gt;"]</c>). The token is never logged nor put in an exception's message.
/// </summary>
internal sealed class HetznerOptions
{
    public const string TokenKey = "token";
    public const string TokenFileKey = "token_file";
    public const string ApiBaseUrlKey = "api_base_url";
    public const string RequestTimeoutKey = "request_timeout_seconds";
    public const string MaxRetriesKey = "max_retries";
    public const string ActionTimeoutKey = "action_timeout_seconds";

    public static IReadOnlyList<string> Keys { get; } =
        [TokenKey, TokenFileKey, ApiBaseUrlKey, RequestTimeoutKey, MaxRetriesKey, ActionTimeoutKey, ProvisionerKinds.OfferingsKey];

    /// <summary>The token itself; better <see cref="TokenFile"/>, or the <c>DC_AGENT_HETZNER__TOKEN</c> variable.</summary>
    [ConfigurationKeyName(TokenKey)]
    public string? Token { get; set; }

    /// <summary>An absolute path to a file holding the token (its first line), read when the agent first calls the API.</summary>
    [ConfigurationKeyName(TokenFileKey)]
    public string? TokenFile { get; set; }

    [ConfigurationKeyName(ApiBaseUrlKey)]
    public Uri ApiBaseUrl { get; set; } = new("https://api.hetzner.cloud/v1/");

    [ConfigurationKeyName(RequestTimeoutKey)]
    public int RequestTimeoutSeconds { get; set; } = 30;

    /// <summary>How many times one call is tried again after a 429, a 5xx, a 409 <c>conflict</c>, a 423 <c>locked</c> or no answer.</summary>
    [ConfigurationKeyName(MaxRetriesKey)]
    public int MaxRetries { get; set; } = 5;

    /// <summary>How long to follow one action (create, power off, delete) before giving up for this round.</summary>
    [ConfigurationKeyName(ActionTimeoutKey)]
    public int ActionTimeoutSeconds { get; set; } = 600;

    [ConfigurationKeyName(ProvisionerKinds.OfferingsKey)]
    public Dictionary<string, HetznerOffering> Offerings { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>One offering's server: <c>server_type</c>, <c>image</c> and <c>location</c> by name, as the Hetzner API takes them.</summary>
internal sealed class HetznerOffering
{
    public const string ServerTypeKey = "server_type";
    public const string ImageKey = "image";
    public const string LocationKey = "location";

    public static IReadOnlyList<string> Keys { get; } = [ServerTypeKey, ImageKey, LocationKey];

    [ConfigurationKeyName(ServerTypeKey)]
    public string ServerType { get; set; } = "";

    [ConfigurationKeyName(ImageKey)]
    public string Image { get; set; } = "";

    /// <summary>Optional: without it Hetzner picks a location that has the server type.</summary>
    [ConfigurationKeyName(LocationKey)]
    public string? Location { get; set; }
}
