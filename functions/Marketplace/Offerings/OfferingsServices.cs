namespace DecentCloud.Functions.Marketplace.Offerings;

public static class OfferingsServices
{
    /// <summary>The offering store. Needs the provider store (<c>AddProviders</c>) for the onboarding check.</summary>
    public static IServiceCollection AddOfferings(this IServiceCollection services) =>
        services.AddSingleton<OfferingStore>();
}
