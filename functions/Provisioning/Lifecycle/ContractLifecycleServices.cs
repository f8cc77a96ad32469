using DecentCloud.Functions.Platform.Configuration;

namespace DecentCloud.Functions.Provisioning.Lifecycle;

public static class ContractLifecycleServices
{
    /// <summary>The contract's orchestration: its settings, its activities' work and its starter. Needs contracts and billing.</summary>
    public static IServiceCollection AddContractLifecycle(this IServiceCollection services)
    {
        services.AddSettings<ContractLifecycleOptions>();
        return services
            .AddSingleton<ContractLifecycleWork>()
            .AddSingleton<ContractLifecycleStarter>();
    }
}
