using DecentCloud.Functions.Chatwoot.Api;
using DecentCloud.Functions.Chatwoot.Webhooks;
using DecentCloud.Functions.Platform.Configuration;

namespace DecentCloud.Functions.Chatwoot.Onboarding;

public static class ChatwootOnboardingServices
{
    /// <summary>The Chatwoot client, webhook verification, the onboarding's activities and the support stores. Needs providers.</summary>
    public static IServiceCollection AddChatwoot(this IServiceCollection services)
    {
        services.AddSettings<ChatwootOnboardingOptions>();
        services.AddChatwootClient();
        services.AddChatwootWebhooks();
        return services
            .AddSingleton<ChatwootSupportStore>()
            .AddSingleton<ProviderSupport>()
            .AddSingleton<SupportResourceSetup>();
    }
}
