using DecentCloud.Functions.Platform.Http;
using DecentCloud.Shared.Signing;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Identity.Delegations;

/// <summary><c>POST /api/v1/providers/{pubkey}/agent-delegations</c>, signed by the provider: lets an agent key act for it.</summary>
public sealed class CreateAgentDelegation(DelegationStore store, TimeProvider time)
{
    public const int MaxLabelLength = 100;
    private static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(366);

    [EndpointSummary("Delegate to an agent")]
    [EndpointDescription("Signed by the provider. The agent key may then call the agent endpoints its permissions allow (provision, health_check, heartbeat, fetch_contracts) until expiresAt (at most a year ahead). Sending it again for the same agent replaces it.")]
    [JsonBody(typeof(DelegationRequest))]
    [Function(nameof(CreateAgentDelegation))]
    [Signed]
    public async Task<Results<Ok<DelegationView>, ValidationProblem, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/providers/{pubkey}/agent-delegations")] HttpRequest request, string pubkey, CancellationToken cancellationToken)
    {
        var delegation = await JsonBodies.ReadAsync<DelegationRequest>(request, cancellationToken);
        var caller = SignedCaller.Of(request.HttpContext);
        if (!caller.Is(pubkey))
        {
            return DelegationProblems.NotTheProvider();
        }

        var now = time.GetUtcNow();
        var errors = Validate(delegation, caller.PublicKeyHex, now);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Delegation not valid");
        }

        var agentKey = delegation!.AgentPublicKey!.ToLowerInvariant();
        var existing = await store.FindAsync(agentKey, cancellationToken);
        if (existing is not null && existing.ProviderKey != caller.PublicKeyHex && existing.RevokedAt is null)
        {
            return DelegationProblems.AgentTaken();
        }

        var row = new AgentDelegation
        {
            PartitionKey = agentKey,
            ProviderKey = caller.PublicKeyHex,
            Permissions = string.Join(',', delegation.Permissions!.Distinct(StringComparer.Ordinal)),
            ExpiresAt = delegation.ExpiresAt!.Value,
            Label = delegation.Label?.Trim() ?? "",
            CreatedAt = now,
        };
        return await store.SaveAsync(row, existing, cancellationToken)
            ? TypedResults.Ok(row.ToView())
            : DelegationProblems.Changed();
    }

    private static Dictionary<string, string[]> Validate(DelegationRequest? delegation, string providerKey, DateTimeOffset now)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (delegation is null)
        {
            errors["body"] = ["A JSON delegation is required."];
            return errors;
        }

        if (!Ed25519phPublicKey.TryParse(delegation.AgentPublicKey, out var agent, out var problem))
        {
            errors["agentPublicKey"] = [$"Not an Ed25519 public key: {problem}"];
        }
        else if (agent.Hex == providerKey)
        {
            errors["agentPublicKey"] = ["The agent needs its own key, not the provider's."];
        }

        if (delegation.Permissions is not { Count: > 0 })
        {
            errors["permissions"] = ["At least one permission is required: provision, health_check, heartbeat, fetch_contracts."];
        }
        else if (delegation.Permissions.FirstOrDefault(p => !AgentPermissions.TryParse(p, out _)) is { } unknown)
        {
            errors["permissions"] = [$"Unknown permission '{unknown}'; known: provision, health_check, heartbeat, fetch_contracts."];
        }

        if (delegation.ExpiresAt is not { } expires || expires <= now || expires > now + MaxLifetime)
        {
            errors["expiresAt"] = ["expiresAt must be in the future and at most a year ahead."];
        }

        if (delegation.Label?.Length > MaxLabelLength)
        {
            errors["label"] = [$"label is at most {MaxLabelLength} characters."];
        }

        return errors;
    }
}
