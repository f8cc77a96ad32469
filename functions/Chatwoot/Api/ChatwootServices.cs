using DecentCloud.Functions.Platform.Configuration;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Chatwoot.Api;

public static class ChatwootServices
{
    /// <summary>The Chatwoot settings and the typed <see cref="ChatwootClient"/>.</summary>
    public static IServiceCollection AddChatwootClient(this IServiceCollection services)
    {
        services.AddSettings<ChatwootOptions>();
        services.AddHttpClient<ChatwootClient>((sp, http) =>
        {
            var options = sp.GetRequiredService<IOptions<ChatwootOptions>>().Value;
            http.BaseAddress = WithTrailingSlash(options.BaseUrl);
            http.Timeout = options.Timeout;
        })
            // An activity may keep its client for as long as it runs, so the factory's handler rotation cannot be relied on;
            // the pooled connections' own lifetime picks up DNS changes instead.
            .UseSocketsHttpHandler((handler, _) => handler.PooledConnectionLifetime = TimeSpan.FromMinutes(5))
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        return services;
    }

    /// <summary>Relative paths resolve under the last slash, so an installation served under ".../chatwoot" would lose that segment.</summary>
    internal static Uri WithTrailingSlash(Uri root) =>
        root.AbsoluteUri.EndsWith('/') ? root : new Uri(root.AbsoluteUri + "/");
}
