using DecentCloud.Functions.Chatwoot.Api;
using DecentCloud.Functions.Chatwoot.Webhooks;
using DecentCloud.Functions.Platform.Configuration;
using DecentCloud.Functions.Workflows;

namespace DecentCloud.Functions.Chatwoot.Onboarding;

public static class ChatwootOnboardingServices
{
    /// <summary>The Chatwoot client, webhook verification, the onboarding workflow and its stores. Needs providers and workflows.</summary>
    public static IServiceCollection AddChatwoot(this IServiceCollection services)
    {
        services.AddSettings<ChatwootOnboardingOptions>();
        services.AddChatwootClient();
        services.AddChatwootWebhooks();
        return services
            .AddSingleton<ChatwootSupportStore>()
            .AddSingleton<ProviderSupport>()
            .AddSingleton<IWorkflowSteps, ChatwootOnboarding>();
    }
}
