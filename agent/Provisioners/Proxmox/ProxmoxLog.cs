using Microsoft.Extensions.Logging;

namespace DecentCloud.Agent.Provisioners.Proxmox;

/// <summary>The Proxmox provisioner's log events, ids 140–159 (docs/agent.md, "Logs"). None carries the token or a password.</summary>
internal static partial class ProxmoxLog
{
    [LoggerMessage(EventId = 140, Level = LogLevel.Information, Message = "Contract {ContractId}: cloning template {TemplateVmid} on node {Node} to VM {Vmid}")]
    public static partial void Cloning(ILogger logger, string contractId, int templateVmid, string node, int vmid);

    [LoggerMessage(EventId = 141, Level = LogLevel.Warning, Message = "Contract {ContractId}: VM id {Vmid} was taken before the clone ({Reason}); trying another id ({Attempt} of {Attempts})")]
    public static partial void IdTaken(ILogger logger, string contractId, int vmid, string reason, int attempt, int attempts);

    [LoggerMessage(EventId = 142, Level = LogLevel.Information, Message = "Contract {ContractId}: VM {Vmid} on node {Node} already exists (an earlier run made it); finishing it instead of cloning again")]
    public static partial void FoundExisting(ILogger logger, string contractId, int vmid, string node);

    [LoggerMessage(EventId = 143, Level = LogLevel.Information, Message = "Contract {ContractId}: VM {Vmid} on node {Node} configured (cloud-init user {User}) and started")]
    public static partial void Started(ILogger logger, string contractId, int vmid, string node, string user);

    [LoggerMessage(EventId = 144, Level = LogLevel.Information, Message = "Contract {ContractId}: the guest agent of VM {Vmid} reports {Address}")]
    public static partial void AddressFound(ILogger logger, string contractId, int vmid, string address);

    [LoggerMessage(EventId = 145, Level = LogLevel.Debug, Message = "VM {Vmid}: no address from the guest agent yet ({Reason}); asking again")]
    public static partial void WaitingForGuestAgent(ILogger logger, int vmid, string reason);

    [LoggerMessage(EventId = 146, Level = LogLevel.Warning, Message = "Contract {ContractId}: provisioning VM {Vmid} failed half way; destroying the VM: {Reason}")]
    public static partial void CleaningUp(ILogger logger, string contractId, int vmid, string reason);

    [LoggerMessage(EventId = 147, Level = LogLevel.Error, Message = "Contract {ContractId}: VM {Vmid} could not be destroyed after a failed provisioning; the next try finds and finishes it, or remove it by hand")]
    public static partial void CleanupFailed(ILogger logger, string contractId, int vmid, Exception exception);

    [LoggerMessage(EventId = 148, Level = LogLevel.Information, Message = "Contract {ContractId}: VM {Vmid} on node {Node} stopped; its disks are kept")]
    public static partial void Stopped(ILogger logger, string contractId, int vmid, string node);

    [LoggerMessage(EventId = 149, Level = LogLevel.Information, Message = "Contract {ContractId}: VM {Vmid} on node {Node} destroyed with its disks")]
    public static partial void Destroyed(ILogger logger, string contractId, int vmid, string node);

    [LoggerMessage(EventId = 150, Level = LogLevel.Information, Message = "Contract {ContractId}: no VM carries the contract; nothing to {Action}")]
    public static partial void NoVm(ILogger logger, string contractId, string action);

    [LoggerMessage(EventId = 151, Level = LogLevel.Debug, Message = "Proxmox {Method} /{Path} answered {Status} in {ElapsedMs} ms")]
    public static partial void Answered(ILogger logger, string method, string path, int status, long elapsedMs);

    [LoggerMessage(EventId = 152, Level = LogLevel.Warning, Message = "Proxmox {Method} /{Path} answered an error that is not JSON; keeping its status and reason phrase")]
    public static partial void UnreadableError(ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(EventId = 153, Level = LogLevel.Information, Message = "VM {Vmid} is locked ({Lock}) by a task still running; waiting for it")]
    public static partial void WaitingForLock(ILogger logger, int vmid, string @lock);
}
