using System.Text.Json;
using System.Text.Json.Serialization;

namespace DecentCloud.Agent.Provisioners.Docker;

// The Engine API's shapes (v1.47), only the fields the provisioner sends or reads; the API is open-schema, so unknown
// fields in answers are ignored. Names are the API's own (PascalCase), so no naming policy applies.

internal sealed record ContainerCreateRequest(
    string Image,
    IReadOnlyList<string> Env,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, JsonElement> ExposedPorts,
    ContainerHostConfig HostConfig);

internal sealed record ContainerHostConfig(
    long NanoCpus,
    long Memory,
    IReadOnlyDictionary<string, IReadOnlyList<PortBinding>> PortBindings,
    RestartPolicy RestartPolicy);

internal sealed record PortBinding(string HostIp, string HostPort);

internal sealed record RestartPolicy(string Name);

internal sealed record IdResponse(string Id, IReadOnlyList<string>? Warnings);

internal sealed record ErrorResponse(string? Message);

internal sealed record ContainerSummary(string Id, IReadOnlyList<string>? Names, string? Image, string? State, string? Status, IReadOnlyDictionary<string, string>? Labels);

internal sealed record ContainerInspect(string Id, string? Name, ContainerState? State, ContainerConfigView? Config, NetworkSettingsView? NetworkSettings);

internal sealed record ContainerState(string? Status, bool Running, int ExitCode, string? Error, string? StartedAt, string? FinishedAt, ContainerHealth? Health);

internal sealed record ContainerHealth(string? Status, int FailingStreak, IReadOnlyList<HealthcheckResult>? Log);

internal sealed record HealthcheckResult(int ExitCode, string? Output);

internal sealed record ContainerConfigView(string? Image, IReadOnlyList<string>? Env, IReadOnlyDictionary<string, string>? Labels);

internal sealed record NetworkSettingsView(IReadOnlyDictionary<string, IReadOnlyList<PortBinding>?>? Ports);

internal sealed record SystemVersion(string? Version, string? ApiVersion, string? MinAPIVersion, string? Os, string? Arch);

internal sealed record SystemInfo(int NCPU, long MemTotal, int Containers, int ContainersRunning, string? ServerVersion);

/// <summary>One line of a pull's progress stream: <c>{status, id?, progressDetail?}</c>, or the failure <c>{errorDetail, error}</c>.</summary>
internal sealed record PullProgress(string? Status, string? Id, ProgressDetail? ProgressDetail, ErrorDetail? ErrorDetail, string? Error);

internal sealed record ProgressDetail(long? Current, long? Total);

internal sealed record ErrorDetail(int? Code, string? Message);

internal static class DockerJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNameCaseInsensitive = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
