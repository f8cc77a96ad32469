using System.Text.Json;
using System.Text.Json.Serialization;

namespace DecentCloud.Agent.Provisioners.Hetzner;

// The parts of the Hetzner Cloud API's objects the provisioner reads and the requests it sends, snake_case on the wire
// (tests/DecentCloud.Tests/Agent/Hetzner/hetzner-subset.json has the operations and their full schemas).

internal static class HetznerJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

internal static class HetznerServerStatus
{
    public const string Running = "running";
    public const string Initializing = "initializing";
    public const string Starting = "starting";
    public const string Off = "off";
    public const string Deleting = "deleting";
}

internal static class HetznerActionStatus
{
    public const string Running = "running";
    public const string Success = "success";
    public const string Error = "error";
}

internal sealed record HetznerServer(long Id, string Name, string Status, HetznerPublicNet? PublicNet, Dictionary<string, string>? Labels);

internal sealed record HetznerPublicNet(HetznerAddress? Ipv4, HetznerAddress? Ipv6);

internal sealed record HetznerAddress(string Ip);

internal sealed record HetznerAction(long Id, string Command, string Status, int Progress, HetznerActionError? Error);

internal sealed record HetznerActionError(string Code, string Message);

internal sealed record HetznerSshKey(long Id, string Name, string Fingerprint, Dictionary<string, string>? Labels);

internal sealed record HetznerServerType(long Id, string Name, bool Deprecated, string? Architecture, IReadOnlyList<HetznerServerTypeLocation>? Locations, IReadOnlyList<HetznerPrice>? Prices);

internal sealed record HetznerServerTypeLocation(long Id, string Name, bool Available);

internal sealed record HetznerPrice(string Location);

internal sealed record HetznerImage(long Id, string? Name, string Type, string Status, string? Architecture);

internal sealed record HetznerLocation(long Id, string Name);

internal sealed record HetznerCreateServerAnswer(HetznerServer Server, HetznerAction Action, IReadOnlyList<HetznerAction>? NextActions);

internal sealed record HetznerResetPasswordAnswer(string RootPassword, HetznerAction Action)
{
    public override string ToString() => $"reset password, action {Action.Id}";
}

/// <summary><c>POST /servers</c>. Its user data holds the server's password: never log it.</summary>
internal sealed record HetznerCreateServerRequest(
    string Name,
    string ServerType,
    string Image,
    string? Location,
    IReadOnlyList<string>? SshKeys,
    string UserData,
    IReadOnlyDictionary<string, string> Labels,
    bool StartAfterCreate)
{
    public override string ToString() => $"create server {Name} ({ServerType}, {Image}, {Location})";
}

internal sealed record HetznerCreateSshKeyRequest(string Name, string PublicKey, IReadOnlyDictionary<string, string> Labels);
