using Microsoft.Extensions.Logging;

namespace DecentCloud.Agent.Provisioners.Docker;

/// <summary>The Docker provisioner's log events, ids 100 to 119 (docs/agent.md, "Logs").</summary>
internal static partial class DockerLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Contract {ContractId}: pulling {Image} (at most {TimeoutSeconds} s)")]
    public static partial void Pulling(ILogger logger, string contractId, string image, int timeoutSeconds);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Pulling {Image}: {Status} {Layer} ({CurrentBytes} of {TotalBytes} bytes)")]
    public static partial void PullProgress(ILogger logger, string image, string? status, string? layer, long? currentBytes, long? totalBytes);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Pulled {Image} in {Seconds} s: {Status}")]
    public static partial void Pulled(ILogger logger, string image, long seconds, string? status);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "Pulling {Image} failed; the copy already on the Docker host is used")]
    public static partial void PullFailedUsingLocal(ILogger logger, string image, Exception exception);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Contract {ContractId}: created container {ContainerId} ({Name}) from {Image}, {Cpus} CPUs, {MemoryMb} MiB")]
    public static partial void Created(ILogger logger, string contractId, string containerId, string name, string image, double cpus, long memoryMb);

    [LoggerMessage(EventId = 105, Level = LogLevel.Information, Message = "Contract {ContractId}: container {ContainerId} runs, SSH on {Host}:{HostPort}")]
    public static partial void Running(ILogger logger, string contractId, string containerId, string host, int hostPort);

    [LoggerMessage(EventId = 106, Level = LogLevel.Information, Message = "Contract {ContractId}: container {ContainerId} was made by an earlier run (state {State}); it is used, not made again")]
    public static partial void Adopted(ILogger logger, string contractId, string containerId, string? state);

    [LoggerMessage(EventId = 107, Level = LogLevel.Warning, Message = "Contract {ContractId}: container {ContainerId} did not start; it is removed and tried again on the next poll")]
    public static partial void StartFailed(ILogger logger, string contractId, string containerId, Exception exception);

    [LoggerMessage(EventId = 108, Level = LogLevel.Information, Message = "Contract {ContractId}: container {ContainerId} stopped (its filesystem is kept)")]
    public static partial void Stopped(ILogger logger, string contractId, string containerId);

    [LoggerMessage(EventId = 109, Level = LogLevel.Information, Message = "Contract {ContractId}: container {ContainerId} removed")]
    public static partial void Removed(ILogger logger, string contractId, string containerId);

    [LoggerMessage(EventId = 110, Level = LogLevel.Information, Message = "Contract {ContractId}: no container to {Action}; it is gone already")]
    public static partial void AlreadyGone(ILogger logger, string contractId, string action);

    [LoggerMessage(EventId = 111, Level = LogLevel.Warning, Message = "Contract {ContractId}: the container name {Name} is taken (409); looking for the contract's container by its label")]
    public static partial void NameTaken(ILogger logger, string contractId, string name);

    [LoggerMessage(EventId = 112, Level = LogLevel.Warning, Message = "Contract {ContractId}: Docker warns about container {ContainerId}: {Warnings}")]
    public static partial void CreateWarnings(ILogger logger, string contractId, string containerId, string warnings);

    [LoggerMessage(EventId = 113, Level = LogLevel.Error, Message = "Contract {ContractId}: container {ContainerId} did not start and could not be removed either; the next poll finds it by its label")]
    public static partial void CleanupFailed(ILogger logger, string contractId, string containerId, Exception exception);

    [LoggerMessage(EventId = 114, Level = LogLevel.Warning, Message = "Contract {ContractId} fails: {Reason}")]
    public static partial void Refused(ILogger logger, string contractId, string reason);
}
