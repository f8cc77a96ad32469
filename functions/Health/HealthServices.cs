namespace DecentCloud.Functions.Health;

public static class HealthServices
{
    public static IServiceCollection AddHealth(this IServiceCollection services) =>
        services.AddSingleton<StorageProbe>().AddSingleton<PoisonWatch>().AddHostedService<StorageStartupCheck>();

    /// <summary>Makes the poison copy of <paramref name="queue"/> part of the app's health (see <see cref="QueueWatch"/>).</summary>
    public static IServiceCollection AddWatchedQueue(this IServiceCollection services, string queue, string holds) =>
        services.AddSingleton(new QueueWatch(queue, holds));
}
