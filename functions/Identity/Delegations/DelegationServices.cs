namespace DecentCloud.Functions.Identity.Delegations;

public static class DelegationServices
{
    public static IServiceCollection AddAgentDelegations(this IServiceCollection services) =>
        services.AddSingleton<DelegationStore>().AddSingleton<AgentGate>();
}
