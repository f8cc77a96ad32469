namespace DecentCloud.Functions.Identity.Delegations;

/// <summary>An agent request that passed its signature and delegation checks: which agent, for which provider.</summary>
public sealed record AgentCaller(string AgentKeyHex, string ProviderKeyHex, AgentPermission Permission)
{
    public const string AgentHeader = "X-Agent-Pubkey";

    public static AgentCaller Of(HttpContext context) =>
        context.Features.Get<AgentCaller>()
        ?? throw new InvalidOperationException("This request passed no delegation check: mark the function [Agent(permission)].");
}
