using DecentCloud.Functions.Platform.Configuration;

namespace DecentCloud.Functions.Billing.Receipts;

public static class ReceiptServices
{
    /// <summary>
    /// Time one Mail Send call may take. SendGrid answers in well under a second; a hung connection must not hold the
    /// queue message until its visibility runs out, so the call fails and the queue's retry takes over.
    /// </summary>
    public static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The email settings (validated at start-up), the SendGrid HTTP client and <see cref="ReceiptMailer"/>.</summary>
    public static IServiceCollection AddReceiptEmail(this IServiceCollection services)
    {
        services.AddSettings<EmailOptions>();
        // No retry handler: the SendGrid client adds none to a client it is given, and the queue function retries.
        services.AddHttpClient(ReceiptMailer.HttpClientName, client => client.Timeout = SendTimeout);
        return services.AddSingleton<ReceiptMailer>();
    }
}
