using Microsoft.Extensions.Logging;

namespace DecentCloud.Agent;

/// <summary>The agent's recurring log events.</summary>
internal static partial class AgentLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "dc-agent {Version} started: API {ApiBaseUrl}, poll every {PollIntervalSeconds} s; heartbeats (every {HeartbeatIntervalSeconds} s) and health checks (every {HealthCheckIntervalSeconds} s) are not implemented yet")]
    public static partial void Started(ILogger logger, string version, Uri apiBaseUrl, int pollIntervalSeconds, int heartbeatIntervalSeconds, int healthCheckIntervalSeconds);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information,
        Message = "No provisioners are configured yet, so dc-agent does not poll {ApiBaseUrl} for contracts")]
    public static partial void NoProvisionersConfigured(ILogger logger, Uri apiBaseUrl);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "dc-agent stopped")]
    public static partial void Stopped(ILogger logger);
}
