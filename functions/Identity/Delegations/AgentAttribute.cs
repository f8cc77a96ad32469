namespace DecentCloud.Functions.Identity.Delegations;

/// <summary>
/// On an HTTP function for provider agents: the request must be signed by the agent's key (named again in
/// <c>X-Agent-Pubkey</c>) with a nonce not seen before, and the agent must hold a live delegation granting
/// <see cref="Permission"/>. The function finds the agent and its provider with <see cref="AgentCaller.Of"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class AgentAttribute(AgentPermission permission) : Attribute
{
    public AgentPermission Permission { get; } = permission;
}
