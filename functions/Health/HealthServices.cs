namespace DecentCloud.Functions.Health;

public static class HealthServices
{
    public static IServiceCollection AddHealth(this IServiceCollection services) =>
        services.AddSingleton<StorageProbe>().AddHostedService<StorageStartupCheck>();
}
