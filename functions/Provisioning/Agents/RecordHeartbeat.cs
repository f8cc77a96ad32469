using System.Text.Json;
using DecentCloud.Functions.Identity.Delegations;
using DecentCloud.Functions.Platform.Http;
using DecentCloud.Functions.Provisioning.Health;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Provisioning.Agents;

/// <summary><c>POST /api/v1/providers/{pubkey}/heartbeat</c>, an agent with <c>heartbeat</c>: the agent is alive; answers the intervals the API suggests.</summary>
public sealed class RecordHeartbeat(HealthStore store, IOptions<ProvisioningOptions> options, TimeProvider time)
{
    public const int MaxTextLength = 64;
    public const int MaxCapabilities = 32;
    public const int MaxResourcesLength = 8192;

    [EndpointSummary("An agent's heartbeat")]
    [EndpointDescription("Agent with heartbeat. Body { version, provisioner, capabilities: [string], activeContracts, resources? }. 200 { pollSeconds, heartbeatSeconds, healthCheckSeconds }. "
        + "An agent is online while its last heartbeat is under 5 minutes old.")]
    [JsonBody(typeof(HeartbeatRequest))]
    [Function(nameof(RecordHeartbeat))]
    [Agent(AgentPermission.Heartbeat)]
    public async Task<Results<Ok<SuggestedIntervals>, ValidationProblem, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/providers/{pubkey}/heartbeat")] HttpRequest request, string pubkey, CancellationToken cancellationToken)
    {
        var caller = AgentCaller.Of(request.HttpContext);

        var heartbeat = await JsonBodies.ReadAsync<HeartbeatRequest>(request, cancellationToken);
        var errors = Validate(heartbeat);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Heartbeat not valid");
        }

        await store.SaveHeartbeatAsync(new HeartbeatRow
        {
            PartitionKey = caller.ProviderKeyHex,
            RowKey = caller.AgentKeyHex,
            Version = heartbeat!.Version!,
            Provisioner = heartbeat.Provisioner!,
            Capabilities = string.Join(',', heartbeat.Capabilities ?? []),
            ActiveContracts = heartbeat.ActiveContracts!.Value,
            Resources = Resources(heartbeat),
            LastHeartbeatAt = time.GetUtcNow(),
        }, cancellationToken);

        var settings = options.Value;
        return TypedResults.Ok(new SuggestedIntervals(settings.PollSeconds, settings.HeartbeatSeconds, settings.HealthCheckSeconds));
    }

    private static string? Resources(HeartbeatRequest heartbeat) =>
        heartbeat.Resources is { ValueKind: JsonValueKind.Object } resources ? resources.GetRawText() : null;

    private static Dictionary<string, string[]> Validate(HeartbeatRequest? heartbeat)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (heartbeat is null)
        {
            errors["body"] = ["A JSON heartbeat is required."];
            return errors;
        }

        if (!IsShortText(heartbeat.Version))
        {
            errors["version"] = [$"The agent's version is required, 1-{MaxTextLength} characters."];
        }

        if (!IsShortText(heartbeat.Provisioner))
        {
            errors["provisioner"] = [$"The provisioner's name is required, 1-{MaxTextLength} characters."];
        }

        if (heartbeat.Capabilities is { } capabilities && (capabilities.Count > MaxCapabilities || capabilities.Any(c => !IsShortText(c) || c.Contains(','))))
        {
            errors["capabilities"] = [$"At most {MaxCapabilities} capabilities of 1-{MaxTextLength} characters each, without commas."];
        }

        if (heartbeat.ActiveContracts is not >= 0)
        {
            errors["activeContracts"] = ["The number of contracts the agent runs is required, 0 or more."];
        }

        if (heartbeat.Resources is { } resources && resources.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
        {
            errors["resources"] = ["resources is a JSON object."];
        }
        else if (Resources(heartbeat)?.Length > MaxResourcesLength)
        {
            errors["resources"] = [$"resources is at most {MaxResourcesLength} characters of JSON."];
        }

        return errors;
    }

    private static bool IsShortText(string? text) =>
        !string.IsNullOrWhiteSpace(text) && text.Length <= MaxTextLength && !text.Any(char.IsControl);
}
