using DecentCloud.Functions.Identity.Delegations;
using DecentCloud.Functions.Provisioning.Health;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Provisioning.Views;

public sealed record AgentView(string AgentPubkey, string Label, bool Online, DateTimeOffset? LastHeartbeatAt, string? Version, string? Provisioner, int? ActiveContracts);

/// <summary><c>GET /api/v1/providers/{pubkey}/agents</c>, public: the provider's agents (live delegations) and whether each is online.</summary>
public sealed class ListProviderAgents(DelegationStore delegations, HealthStore health, TimeProvider time)
{
    /// <summary>An agent is online while its last heartbeat is younger than this (docs/provisioning.md).</summary>
    public static readonly TimeSpan OnlineWindow = TimeSpan.FromMinutes(5);

    [EndpointSummary("A provider's agents")]
    [EndpointDescription("Anonymous. [{ agentPubkey, label, online, lastHeartbeatAt, version, provisioner, activeContracts }] for each agent the provider delegated to (revoked and expired ones left out); "
        + "online while the last heartbeat is under 5 minutes old.")]
    [Function(nameof(ListProviderAgents))]
    public async Task<Ok<List<AgentView>>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/providers/{pubkey}/agents")] HttpRequest request, string pubkey, CancellationToken cancellationToken)
    {
        var providerKey = pubkey.ToLowerInvariant();
        var now = time.GetUtcNow();
        var heartbeats = (await health.HeartbeatsOfProviderAsync(providerKey, cancellationToken)).ToDictionary(h => h.AgentKey, StringComparer.Ordinal);
        var agents = (await delegations.ForProviderAsync(providerKey, cancellationToken))
            .Where(d => d.RevokedAt is null && now < d.ExpiresAt)
            .OrderBy(d => d.CreatedAt)
            .Select(d => heartbeats.GetValueOrDefault(d.AgentKey) is { } beat
                ? new AgentView(d.AgentKey, d.Label, now - beat.LastHeartbeatAt < OnlineWindow, beat.LastHeartbeatAt, beat.Version, beat.Provisioner, beat.ActiveContracts)
                : new AgentView(d.AgentKey, d.Label, false, null, null, null, null))
            .ToList();
        return TypedResults.Ok(agents);
    }
}
