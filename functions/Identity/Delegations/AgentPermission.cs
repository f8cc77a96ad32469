using System.Diagnostics.CodeAnalysis;

namespace DecentCloud.Functions.Identity.Delegations;

/// <summary>What a provider lets one of its agents do (docs/agent.md, "Delegations": provision, health_check, heartbeat, fetch_contracts).</summary>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "Permission is the domain's own word for these.")]
public enum AgentPermission
{
    Provision,
    HealthCheck,
    Heartbeat,
    FetchContracts,
}

public static class AgentPermissions
{
    public static string Name(this AgentPermission permission) => permission switch
    {
        AgentPermission.Provision => "provision",
        AgentPermission.HealthCheck => "health_check",
        AgentPermission.Heartbeat => "heartbeat",
        AgentPermission.FetchContracts => "fetch_contracts",
        _ => throw new ArgumentOutOfRangeException(nameof(permission), permission, null),
    };

    public static bool TryParse(string? name, out AgentPermission permission)
    {
        foreach (var candidate in Enum.GetValues<AgentPermission>())
        {
            if (string.Equals(candidate.Name(), name, StringComparison.Ordinal))
            {
                permission = candidate;
                return true;
            }
        }

        permission = default;
        return false;
    }
}
