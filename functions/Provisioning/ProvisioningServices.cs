using DecentCloud.Functions.Platform.Configuration;
using DecentCloud.Functions.Provisioning.Agents;
using DecentCloud.Functions.Provisioning.Health;

namespace DecentCloud.Functions.Provisioning;

public static class ProvisioningServices
{
    /// <summary>The agent API's and the health views' stores, settings and the orchestration signal. Needs the contract rows (<c>AddContracts</c>, <c>AddBilling</c>).</summary>
    public static IServiceCollection AddProvisioning(this IServiceCollection services)
    {
        services.AddSettings<ProvisioningOptions>();
        return services
            .AddSingleton<ProvisioningStore>()
            .AddSingleton<HealthStore>()
            .AddSingleton<ContractLifecycleSignal>();
    }
}
