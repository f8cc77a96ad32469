using Microsoft.Extensions.Logging;

namespace DecentCloud.Agent.Provisioners.Hetzner;

/// <summary>The Hetzner provisioner's log events, ids 120–139 (docs/agent.md, "Logs"). None carries the token or a password.</summary>
internal static partial class HetznerLog
{
    [LoggerMessage(EventId = 120, Level = LogLevel.Warning, Message = "Hetzner API {Method} {Path} failed ({Problem}); try {Attempt} of {Tries} in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, string method, string path, string problem, int attempt, int tries, long delayMs);

    [LoggerMessage(EventId = 121, Level = LogLevel.Warning, Message = "Hetzner API rate limit reached ({Method} {Path}, RateLimit-Limit {Limit}, RateLimit-Remaining {Remaining}); waiting {DelayMs} ms")]
    public static partial void RateLimited(ILogger logger, string method, string path, int? limit, int? remaining, long delayMs);

    [LoggerMessage(EventId = 122, Level = LogLevel.Information, Message = "Contract {ContractId}: the renter's SSH key uploaded to Hetzner as key {KeyId}")]
    public static partial void SshKeyUploaded(ILogger logger, string contractId, long keyId);

    [LoggerMessage(EventId = 123, Level = LogLevel.Information, Message = "Contract {ContractId}: the renter's SSH key is in the project already as key {KeyId} ({Why}); it is used")]
    public static partial void SshKeyReused(ILogger logger, string contractId, long keyId, string why);

    [LoggerMessage(EventId = 124, Level = LogLevel.Information, Message = "Contract {ContractId}: creating Hetzner server {Name} ({ServerType}, {Image}, location {Location})")]
    public static partial void ServerCreating(ILogger logger, string contractId, string name, string serverType, string image, string location);

    [LoggerMessage(EventId = 125, Level = LogLevel.Information, Message = "Contract {ContractId}: Hetzner server {ServerId} runs at {Ipv4} {Ipv6}")]
    public static partial void ServerReady(ILogger logger, string contractId, long serverId, string? ipv4, string? ipv6);

    [LoggerMessage(EventId = 126, Level = LogLevel.Warning, Message = "Contract {ContractId}: Hetzner server {ServerId} exists already (status {Status}, made before a crash); it is used and its root password reset")]
    public static partial void ServerAdopted(ILogger logger, string contractId, long serverId, string status);

    [LoggerMessage(EventId = 127, Level = LogLevel.Warning, Message = "Contract {ContractId}: creating the Hetzner server failed ({Reason}); removing what was made for it")]
    public static partial void CreateFailed(ILogger logger, string contractId, string reason);

    [LoggerMessage(EventId = 128, Level = LogLevel.Error, Message = "Contract {ContractId}: removing what a failed create made did not work; the next try finds it by its label")]
    public static partial void CleanupFailed(ILogger logger, string contractId, Exception exception);

    [LoggerMessage(EventId = 129, Level = LogLevel.Information, Message = "Contract {ContractId}: Hetzner server {ServerId} deleted")]
    public static partial void ServerDeleted(ILogger logger, string contractId, long serverId);

    [LoggerMessage(EventId = 130, Level = LogLevel.Information, Message = "Contract {ContractId}: Hetzner {What} {Id} was gone already (404)")]
    public static partial void AlreadyGone(ILogger logger, string contractId, string what, long id);

    [LoggerMessage(EventId = 131, Level = LogLevel.Information, Message = "Contract {ContractId}: SSH key {KeyId} deleted from the Hetzner project")]
    public static partial void SshKeyDeleted(ILogger logger, string contractId, long keyId);

    [LoggerMessage(EventId = 132, Level = LogLevel.Information, Message = "Contract {ContractId}: Hetzner server {ServerId} powered off (disks kept)")]
    public static partial void PoweredOff(ILogger logger, string contractId, long serverId);

    [LoggerMessage(EventId = 133, Level = LogLevel.Warning, Message = "Contract {ContractId}: the create request got no clear answer ({Problem}); looking for the server by its label before trying again")]
    public static partial void CreateUnanswered(ILogger logger, string contractId, string problem);
}
