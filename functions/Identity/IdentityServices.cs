using DecentCloud.Shared.Signing;

namespace DecentCloud.Functions.Identity;

public static class IdentityServices
{
    /// <summary>Verification of signed requests (see <see cref="SignedFunctions.SignedHttp"/>) and the nonce store behind it.</summary>
    public static IServiceCollection AddIdentity(this IServiceCollection services) =>
        services
            .AddSingleton(sp => new RequestVerifier(sp.GetRequiredService<TimeProvider>()))
            .AddSingleton<NonceStore>()
            .AddSingleton<SignedRequestGate>();
}
