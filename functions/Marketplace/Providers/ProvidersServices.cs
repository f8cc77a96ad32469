using DecentCloud.Functions.Marketplace.Events;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace DecentCloud.Functions.Marketplace.Providers;

public static class ProvidersServices
{
    /// <summary>The provider store, the onboarding outbox and the domain event publisher they use.</summary>
    public static IServiceCollection AddProviders(this IServiceCollection services)
    {
        services.TryAddSingleton<DomainEvents>();
        return services.AddSingleton<ProviderStore>().AddSingleton<OnboardedEventOutbox>();
    }
}
