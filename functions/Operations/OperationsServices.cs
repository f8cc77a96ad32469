namespace DecentCloud.Functions.Operations;

public static class OperationsServices
{
    public static IServiceCollection AddOperations(this IServiceCollection services) =>
        services.AddSingleton<PoisonQueues>().AddSingleton<AdminAudit>();
}
