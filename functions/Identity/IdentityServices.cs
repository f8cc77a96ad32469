using DecentCloud.Functions.Hosting.Configuration;
using DecentCloud.Shared.Signing;
using Microsoft.AspNetCore.OpenApi;

namespace DecentCloud.Functions.Identity;

public static class IdentityServices
{
    /// <summary>Verification of signed requests (see <see cref="SignedFunctions.SignedHttp"/>) and the nonce store behind it.</summary>
    public static IServiceCollection AddIdentity(this IServiceCollection services)
    {
        // The host's OpenAPI document is named "v1"; signed operations are marked in it here, where signing lives.
        services.Configure<OpenApiOptions>("v1", options =>
        {
            options.AddDocumentTransformer<SignedOperationsOpenApi>();
            options.AddOperationTransformer<SignedOperationsOpenApi>();
        });
        services.AddSettings<SignedRequestOptions>();
        return services
            .AddSingleton(sp => new RequestVerifier(sp.GetRequiredService<TimeProvider>()))
            .AddSingleton<NonceStore>()
            .AddSingleton<SignedRequestGate>()
            .AddSingleton<AdminKeyOrSignatureGate>();
    }
}
