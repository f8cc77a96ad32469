using DecentCloud.Functions.Hosting;
using DecentCloud.Functions.Hosting.Http;

namespace DecentCloud.Functions.Identity.Delegations;

public static class AgentFunctions
{
    /// <summary>
    /// An HTTP function for provider agents: the request must be signed by the agent's key (named again in
    /// <c>X-Agent-Pubkey</c>), with a nonce not seen before, and the agent must hold a live delegation granting
    /// <paramref name="permission"/>. Run finds the agent and its provider with <see cref="AgentCaller.Of"/>.
    /// </summary>
    public static FunctionCatalog AgentHttp<TFunction>(this FunctionCatalog functions, string method, string route, AgentPermission permission, string? name = null)
        where TFunction : class
    {
        ArgumentNullException.ThrowIfNull(functions);
        return functions.Http<TFunction>(method, route, AuthorizationLevel.Anonymous, name, endpoint =>
        {
            // Conventions wrap in the order added: the delegation check goes around Run first, and the signature
            // check around both, so the delegation is looked up only for a verified signer.
            endpoint.Add(builder =>
            {
                var run = builder.RequestDelegate
                    ?? throw new InvalidOperationException($"{builder.DisplayName} has no request delegate to put the delegation check in front of.");
                builder.RequestDelegate = context => context.RequestServices.GetRequiredService<AgentGate>().InvokeAsync(context, permission, run);
            });
            endpoint.RequireSignature();
        });
    }
}
