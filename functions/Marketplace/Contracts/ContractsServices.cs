using DecentCloud.Functions.Marketplace.Events;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace DecentCloud.Functions.Marketplace.Contracts;

public static class ContractsServices
{
    /// <summary>The contract store and the domain event publisher. Needs the offering store (<c>AddOfferings</c>).</summary>
    public static IServiceCollection AddContracts(this IServiceCollection services)
    {
        services.TryAddSingleton<DomainEvents>();
        return services.AddSingleton<ContractStore>().AddSingleton<ContractEvents>();
    }
}
