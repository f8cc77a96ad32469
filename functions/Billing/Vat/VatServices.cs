using DecentCloud.Functions.Platform.Configuration;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Billing.Vat;

public static class VatServices
{
    /// <summary>The VAT settings, the EU rate table, the VIES client and the cached VAT ID checks (needs the storage clients).</summary>
    public static IServiceCollection AddVat(this IServiceCollection services)
    {
        services.AddSettings<VatOptions>();
        services.AddSingleton(_ => EuVatRates.Default);
        services.AddHttpClient<ViesClient>((sp, http) =>
        {
            var options = sp.GetRequiredService<IOptions<VatOptions>>().Value;
            http.BaseAddress = WithTrailingSlash(options.ViesBaseUrl);
            http.Timeout = options.ViesTimeout;
        })
            // VatIdChecks is a singleton and keeps its ViesClient for good, so the factory's handler rotation never
            // happens; the pooled connections' own lifetime picks up DNS changes instead.
            .UseSocketsHttpHandler((handler, _) => handler.PooledConnectionLifetime = TimeSpan.FromMinutes(5))
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        services.AddSingleton<VatIdChecks>();
        return services;
    }

    /// <summary>Relative paths resolve under the last slash, so ".../rest-api" would lose its last segment.</summary>
    internal static Uri WithTrailingSlash(Uri root) =>
        root.AbsoluteUri.EndsWith('/') ? root : new Uri(root.AbsoluteUri + "/");
}
