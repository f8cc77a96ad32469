using DecentCloud.Functions.Health;
using DecentCloud.Functions.Platform.Configuration;

namespace DecentCloud.Functions.Billing.Icpay;

public static class IcpayServices
{
    /// <summary>ICPay: the webhook's event store, the checkout and the payment rules (needs billing's contract rows, VAT and refunds).</summary>
    public static IServiceCollection AddIcpay(this IServiceCollection services)
    {
        services.AddSettings<IcpayOptions>();
        services.AddWatchedQueue(IcpayEventMessage.QueueName, "ICPay events not applied");
        return services
            .AddSingleton<IcpayEventStore>()
            .AddSingleton<IcpayCheckouts>()
            .AddSingleton<IcpayPayments>();
    }
}
