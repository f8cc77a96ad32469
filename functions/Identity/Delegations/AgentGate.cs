namespace DecentCloud.Functions.Identity.Delegations;

/// <summary>
/// Runs an agent function only when the (already verified) signer is an agent with a live delegation that
/// grants this endpoint's permission (docs/agent.md, "Delegations": permissions are enforced on every agent endpoint),
/// and, on a route that names a provider, only for an agent of that provider. Refusals are 403 problems with a
/// <c>check</c> field.
/// </summary>
internal sealed partial class AgentGate(DelegationStore store, TimeProvider time, IProblemDetailsService problems, ILogger<AgentGate> logger)
{
    public async Task InvokeAsync(HttpContext context, AgentPermission permission, string? providerInPath, RequestDelegate run)
    {
        var signer = SignedCaller.Of(context);
        string? claimed = context.Request.Headers[AgentCaller.AgentHeader];
        if (!signer.Is(claimed ?? ""))
        {
            await RefuseAsync(context, "agentHeader", $"The {AgentCaller.AgentHeader} header must name the key that signed the request.", permission, signer);
            return;
        }

        var delegation = await store.FindAsync(signer.PublicKeyHex, context.RequestAborted);
        var now = time.GetUtcNow();
        var (check, detail) = delegation switch
        {
            null => ("noDelegation", "This agent key holds no delegation from a provider."),
            { RevokedAt: not null } => ("revoked", "The provider revoked this agent's delegation."),
            _ when now >= delegation.ExpiresAt => ("expired", "This agent's delegation has expired; the provider must renew it."),
            _ when !delegation.Allows(permission, now) => ("permission", $"This agent's delegation does not grant {permission.Name()}."),
            _ when providerInPath is not null && !string.Equals(providerInPath, delegation.ProviderKey, StringComparison.OrdinalIgnoreCase)
                => ("provider", "The path names another provider than the one that delegated to this agent."),
            _ => ((string?)null, (string?)null),
        };
        if (check is not null)
        {
            await RefuseAsync(context, check, detail!, permission, signer);
            return;
        }

        context.Features.Set(new AgentCaller(signer.PublicKeyHex, delegation!.ProviderKey, permission));
        await run(context);
    }

    private async Task RefuseAsync(HttpContext context, string check, string detail, AgentPermission permission, SignedCaller signer)
    {
        LogRefused(logger, signer.PublicKeyHex, permission.Name(), check);
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status403Forbidden,
                Title = "Agent not allowed",
                Detail = detail,
                Extensions = { ["check"] = check },
            },
        });
    }

    [LoggerMessage(EventId = 6020, Level = LogLevel.Warning, Message = "Refused agent {AgentKey} for {Permission}: {Check}")]
    private static partial void LogRefused(ILogger logger, string agentKey, string permission, string check);
}
