using DecentCloud.Functions.Billing.Checkout;
using DecentCloud.Functions.Billing.Icpay;
using DecentCloud.Functions.Billing.Invoices;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Billing.Receipts;
using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Billing.StripeIntegration;
using DecentCloud.Functions.Billing.Vat;
using DecentCloud.Functions.Health;
using DecentCloud.Functions.Platform.Configuration;

namespace DecentCloud.Functions.Billing;

public static class BillingServices
{
    /// <summary>Checkout, Stripe webhooks and events, ICPay payments, invoices, VAT and receipts. Needs contracts, offerings and accounts.</summary>
    public static IServiceCollection AddBilling(this IServiceCollection services)
    {
        services.AddSettings<StripeOptions>();
        services.AddSettings<RefundOptions>();
        services.AddSettings<StripeReconcileOptions>();
        // Not validated at start-up: while the seller is incomplete, invoices wait and everything else works (SellerOptions).
        services.AddOptions<SellerOptions>().Configure<IConfiguration>((seller, configuration) => configuration.Bind(seller));
        // The gateway is a singleton holding its client: connection lifetime, not handler rotation, picks up DNS changes.
        services.AddHttpClient(nameof(StripeGateway))
            .UseSocketsHttpHandler((handler, _) => handler.PooledConnectionLifetime = TimeSpan.FromMinutes(5))
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        services.AddVat().AddReceiptEmail().AddIcpay();
        services
            .AddWatchedQueue(StripeEventIntake.QueueName, "Stripe events not applied")
            .AddWatchedQueue(InvoiceWork.QueueName, "invoices and credit notes not issued")
            .AddWatchedQueue(ReceiptWork.QueueName, "receipts not sent");
        return services
            .AddSingleton<ContractRows>()
            .AddSingleton<StripeGateway>()
            .AddSingleton<CheckoutSessions>()
            .AddSingleton<StripeEventStore>()
            .AddSingleton<StripeEventIntake>()
            .AddSingleton<StripeEventList>()
            .AddSingleton<PaymentIntentIndex>()
            .AddSingleton<SessionPayments>()
            .AddSingleton<ChargeEvents>()
            .AddSingleton<RefundsOwed>()
            .AddSingleton<InvoiceNumbers>()
            .AddSingleton<InvoiceBlobs>()
            .AddSingleton<InvoiceIssuer>()
            .AddSingleton<ContractInvoices>();
    }
}
