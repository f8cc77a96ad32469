using System.ComponentModel.DataAnnotations;

namespace DecentCloud.Functions.Provisioning;

/// <summary>
/// The intervals the API suggests to dc-agent (it honours them over its own configuration) and the platform's own
/// probe of each running instance (docs/provisioning.md).
/// </summary>
public sealed class ProvisioningOptions
{
    /// <summary>Seconds between an agent's polls of its pending work.</summary>
    [ConfigurationKeyName("AGENT_POLL_SECONDS")]
    [Range(5, 3600)]
    public int PollSeconds { get; set; } = 30;

    /// <summary>Seconds between an agent's heartbeats; an agent is online while its last one is under 5 minutes old.</summary>
    [ConfigurationKeyName("AGENT_HEARTBEAT_SECONDS")]
    [Range(10, 240)]
    public int HeartbeatSeconds { get; set; } = 60;

    /// <summary>Seconds between an agent's health checks of each instance it runs.</summary>
    [ConfigurationKeyName("AGENT_HEALTH_CHECK_SECONDS")]
    [Range(30, 3600)]
    public int HealthCheckSeconds { get; set; } = 300;

    /// <summary>Seconds the platform's probe waits for a TCP connection to an instance's SSH port before it counts as down.</summary>
    [ConfigurationKeyName("PROBE_TIMEOUT_SECONDS")]
    [Range(1, 60)]
    public int ProbeTimeoutSeconds { get; set; } = 5;

    /// <summary>Probes run at once by one run of the probe timer.</summary>
    [ConfigurationKeyName("PROBE_CONCURRENCY")]
    [Range(1, 256)]
    public int ProbeConcurrency { get; set; } = 32;

    /// <summary>
    /// Whether the platform connects to, and reports may name, addresses that are not public (loopback, private ranges,
    /// link-local...). Off in production: a provider could otherwise make the platform probe its own internal network
    /// (docs/provisioning.md, "Which addresses are probed"). On for local runs and tests, whose agents run on 127.0.0.1.
    /// </summary>
    [ConfigurationKeyName("PROBE_ALLOW_PRIVATE_ADDRESSES")]
    public bool AllowPrivateAddresses { get; set; }

    public TimeSpan ProbeTimeout => TimeSpan.FromSeconds(ProbeTimeoutSeconds);
}
