using DecentCloud.Functions.Platform.Configuration;
using DecentCloud.Shared.Signing;

namespace DecentCloud.Functions.Identity;

public static class IdentityServices
{
    /// <summary>Verification of signed requests (functions marked <see cref="SignedAttribute"/>) and the nonce store behind it.</summary>
    public static IServiceCollection AddIdentity(this IServiceCollection services)
    {
        services.AddSettings<SignedRequestOptions>();
        return services
            .AddSingleton(sp => new RequestVerifier(sp.GetRequiredService<TimeProvider>()))
            .AddSingleton<NonceStore>()
            .AddSingleton<SignedRequestGate>();
    }
}
