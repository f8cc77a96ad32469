using DecentCloud.Agent.State;
using Microsoft.Extensions.Logging;

namespace DecentCloud.Agent;

/// <summary>The agent's log events (docs/agent.md, "Logs", says what each one means).</summary>
internal static partial class AgentLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "dc-agent {Version} started: agent {AgentPubkey} for provider {ProviderPubkey}, API {ApiBaseUrl}, provisioner {Provisioner}, poll every {PollIntervalSeconds} s, heartbeat every {HeartbeatIntervalSeconds} s, health checks every {HealthCheckIntervalSeconds} s")]
    public static partial void Started(ILogger logger, string version, string agentPubkey, string providerPubkey, Uri apiBaseUrl, string provisioner, int pollIntervalSeconds, int heartbeatIntervalSeconds, int healthCheckIntervalSeconds);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "dc-agent stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Poll: {Provision} contract(s) to provision, {Terminate} to terminate")]
    public static partial void Polled(ILogger logger, int provision, int terminate);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Contract {ContractId} locked until {ExpiresAt:o}; provisioning it with the {Provisioner} provisioner")]
    public static partial void Locked(ILogger logger, string contractId, DateTimeOffset expiresAt, string provisioner);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "Contract {ContractId} not taken: the lock was refused ({Problem})")]
    public static partial void LockRefused(ILogger logger, string contractId, string? problem);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "Contract {ContractId} waits: {Message}")]
    public static partial void Waiting(ILogger logger, string contractId, string message);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "Contract {ContractId} reported provisioned: instance {ExternalId} at {Address}:{SshPort}, credentials sealed to the renter")]
    public static partial void ReportedProvisioned(ILogger logger, string contractId, string externalId, string? address, int sshPort);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "Contract {ContractId} reported failed: {Reason}")]
    public static partial void ReportedFailed(ILogger logger, string contractId, string reason);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Contract {ContractId}: a report left pending by an earlier run is sent now ({Phase}); the contract is not provisioned again")]
    public static partial void ResumingReport(ILogger logger, string contractId, ContractPhase phase);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Contract {ContractId} reported terminated (instance {ExternalId})")]
    public static partial void ReportedTerminated(ILogger logger, string contractId, string? externalId);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "Heartbeat sent ({ActiveContracts} active contracts); the platform asks for poll {PollSeconds} s, heartbeat {HeartbeatSeconds} s, health checks {HealthCheckSeconds} s")]
    public static partial void HeartbeatSent(ILogger logger, int activeContracts, int pollSeconds, int heartbeatSeconds, int healthCheckSeconds);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "Health of contract {ContractId}: {Status} ({Details})")]
    public static partial void HealthChecked(ILogger logger, string contractId, string status, string? details);

    [LoggerMessage(EventId = 14, Level = LogLevel.Information, Message = "Reconciled {Instances} instance(s) with the platform: {Keep} kept, {Terminate} to terminate")]
    public static partial void Reconciled(ILogger logger, int instances, int keep, int terminate);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning, Message = "{Task} failed ({Failures} in a row); next try in {RetrySeconds} s: {Reason}")]
    public static partial void TaskFailed(ILogger logger, string task, int failures, int retrySeconds, string reason, Exception exception);

    [LoggerMessage(EventId = 16, Level = LogLevel.Error, Message = "Contract {ContractId}: {What} failed; it is tried again on the next poll")]
    public static partial void ContractStepFailed(ILogger logger, string contractId, string what, Exception exception);

    [LoggerMessage(EventId = 17, Level = LogLevel.Warning, Message = "Contract {ContractId} is no longer pending on the platform (failed by timeout, cancelled, or taken by another agent); dropped from the state file in phase {Phase}")]
    public static partial void Dropped(ILogger logger, string contractId, ContractPhase phase);

    [LoggerMessage(EventId = 18, Level = LogLevel.Information, Message = "Notified the provider: {Action} contract {ContractId}")]
    public static partial void Notified(ILogger logger, string action, string contractId);

    [LoggerMessage(EventId = 19, Level = LogLevel.Warning, Message = "No notify_command or notify_webhook is configured: {Action} contract {ContractId} by hand, then run 'dc-agent manual ...'")]
    public static partial void NothingToNotify(ILogger logger, string action, string contractId);

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "The platform says instance {ExternalId} should not run ({Reason}); contract {ContractId}")]
    public static partial void ReconcileTerminate(ILogger logger, string externalId, string reason, string? contractId);

    [LoggerMessage(EventId = 22, Level = LogLevel.Information, Message = "Contract {ContractId} waits for its termination ({Why}); confirm with 'dc-agent manual terminated {ContractId}'")]
    public static partial void TerminationWaiting(ILogger logger, string contractId, string why);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "{Task} works again after {Failures} failure(s)")]
    public static partial void TaskRecovered(ILogger logger, string task, int failures);

    [LoggerMessage(EventId = 23, Level = LogLevel.Warning, Message = "The {Provisioner} provisioner could not tell its free resources; the heartbeat goes without them")]
    public static partial void ResourcesFailed(ILogger logger, string provisioner, Exception exception);
}
