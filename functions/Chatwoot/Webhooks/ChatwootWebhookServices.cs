using DecentCloud.Functions.Platform.Configuration;

namespace DecentCloud.Functions.Chatwoot.Webhooks;

public static class ChatwootWebhookServices
{
    /// <summary>The Chatwoot webhook: its settings, the keys that verify deliveries, and the deliveries table.</summary>
    public static IServiceCollection AddChatwootWebhooks(this IServiceCollection services)
    {
        services.AddSettings<ChatwootWebhookOptions>();
        return services
            .AddSingleton<ChatwootWebhookKeys>()
            .AddSingleton<ChatwootDeliveries>();
    }
}
