using Microsoft.DurableTask.Client;

namespace DecentCloud.Functions.Provisioning.Agents;

/// <summary>The payload of <see cref="ContractLifecycleEvents.Locked"/>.</summary>
public sealed record LockedSignal(string AgentPubkey, DateTimeOffset ExpiresAt);

/// <summary>The payload of <see cref="ContractLifecycleEvents.ProvisioningReported"/>: provisioning, provisioned or failed.</summary>
public sealed record ProvisioningReportedSignal(string Status, string? Message);

/// <summary>The payload of <see cref="ContractLifecycleEvents.HealthReported"/>: healthy, unhealthy or unknown.</summary>
public sealed record HealthReportedSignal(string Status, DateTimeOffset CheckedAt);

/// <summary>The payload of <see cref="ContractLifecycleEvents.Terminated"/>.</summary>
public sealed record TerminatedSignal(DateTimeOffset At);

/// <summary>
/// Raises an event on the contract's orchestration after the report is recorded. The record is the truth: the
/// orchestration reads it when it wakes, so a raise that fails (no instance yet, the task hub unreachable) is logged
/// with its exception and the agent's request still succeeds.
/// </summary>
public sealed partial class ContractLifecycleSignal(ILogger<ContractLifecycleSignal> logger)
{
    public async Task RaiseAsync(DurableTaskClient client, string contractId, string eventName, object payload, CancellationToken cancellationToken)
    {
        var instanceId = ContractLifecycleEvents.InstanceId(contractId);
        try
        {
            await client.RaiseEventAsync(instanceId, eventName, payload, cancellationToken);
            LogRaised(logger, eventName, instanceId);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogNotRaised(logger, ex, eventName, instanceId);
        }
    }

    [LoggerMessage(EventId = 10501, Level = LogLevel.Information, Message = "Raised {EventName} on {InstanceId}")]
    private static partial void LogRaised(ILogger logger, string eventName, string instanceId);

    [LoggerMessage(EventId = 10502, Level = LogLevel.Warning, Message = "{EventName} not raised on {InstanceId}; the report is recorded and the orchestration reads it when it wakes")]
    private static partial void LogNotRaised(ILogger logger, Exception exception, string eventName, string instanceId);
}
