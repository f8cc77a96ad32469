using DecentCloud.Functions.Billing.StripeIntegration;
using DecentCloud.Functions.Marketplace.Accounts;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Marketplace.Offerings;

namespace DecentCloud.Functions.Billing.Checkout;

/// <summary>
/// Hands out the one payable Checkout Session of a contract. The stored session is returned while it can still be
/// paid; a new one is made only after it expired or its payment failed, with the next attempt number in the Stripe
/// idempotency key. A crash between Stripe's answer and the row being written is harmless: the retry sends the same
/// key and Stripe answers the same session, so no second charge is possible from here.
/// </summary>
public sealed partial class CheckoutSessions(
    ContractRows rows,
    OfferingStore offerings,
    AccountStore accounts,
    StripeGateway stripe,
    TimeProvider time,
    ILogger<CheckoutSessions> logger)
{
    public async Task<CheckoutEntity> OpenAsync(ContractEntity contract, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var stored = await rows.FindAsync<CheckoutEntity>(contract.PartitionKey, CheckoutEntity.CheckoutRowKey, cancellationToken);
        // A delayed payment method (a bank debit) is on its way: no second session while it may still succeed.
        if (stored is not null && (stored.Payable(now) || stored.Status == CheckoutStatus.Pending))
        {
            return stored;
        }

        // An open session whose expiry time has not come yet is still payable at Stripe: reuse its attempt (same key, same session).
        var attempt = stored is null ? 1 : stored.Status == CheckoutStatus.Open && stored.ExpiresAt > now ? stored.Attempt : stored.Attempt + 1;
        var (customerId, email) = await CustomerAsync(contract.RenterKey, cancellationToken);
        var offering = await offerings.FindAsync(contract.ProviderKey, contract.OfferingId, cancellationToken);
        var session = await stripe.CreateCheckoutSessionAsync(contract, offering?.Name ?? $"Offering {contract.OfferingId}", customerId, email, attempt, cancellationToken);

        var row = stored ?? new CheckoutEntity { PartitionKey = contract.PartitionKey };
        row.Attempt = attempt;
        row.SessionId = session.Id;
        row.Url = session.Url;
        row.ExpiresAt = new DateTimeOffset(DateTime.SpecifyKind(session.ExpiresAt, DateTimeKind.Utc));
        row.Status = CheckoutStatus.Open;
        row.CreatedAt = now;
        var written = stored is null ? await rows.TryAddAsync(row, cancellationToken) : await rows.TryReplaceAsync(row, cancellationToken);
        if (!written)
        {
            // A concurrent call wrote first. With the same attempt it holds the same session; otherwise its row is newer.
            return await rows.FindAsync<CheckoutEntity>(contract.PartitionKey, CheckoutEntity.CheckoutRowKey, cancellationToken) ?? row;
        }

        LogSessionOpened(logger, session.Id, contract.PartitionKey, attempt, contract.PriceMinor, contract.Currency);
        return row;
    }

    /// <summary>The renter's Stripe customer from their billing settings (created or updated), or none and an email to pre-fill.</summary>
    private async Task<(string? CustomerId, string? Email)> CustomerAsync(string renterKey, CancellationToken cancellationToken)
    {
        var account = await accounts.FindAsync<AccountEntity>(renterKey, AccountEntity.AccountRowKey, cancellationToken);
        var billing = await accounts.FindAsync<BillingEntity>(renterKey, BillingEntity.BillingRowKey, cancellationToken);
        var email = billing?.InvoiceEmail ?? account?.ContactEmail;
        if (billing is null)
        {
            return (null, string.IsNullOrEmpty(email) ? null : email);
        }

        if (billing.StripeCustomerId is not null && billing.StripeCustomerSyncedAt == billing.UpdatedAt)
        {
            return (billing.StripeCustomerId, email);
        }

        var customerId = await stripe.EnsureCustomerAsync(billing, billing.StripeCustomerId, string.IsNullOrEmpty(email) ? null : email, cancellationToken);
        billing.StripeCustomerId = customerId;
        billing.StripeCustomerSyncedAt = billing.UpdatedAt;
        if (!await accounts.TryReplaceAsync(billing, cancellationToken))
        {
            // The renter changed their settings meanwhile; the next checkout brings the customer up to date with them.
            LogCustomerNotSaved(logger, renterKey, customerId);
        }

        return (customerId, email);
    }

    [LoggerMessage(EventId = 8001, Level = LogLevel.Information, Message = "Checkout session {SessionId} opened for contract {ContractId} (attempt {Attempt}, {AmountMinor} {Currency})")]
    private static partial void LogSessionOpened(ILogger logger, string sessionId, string contractId, int attempt, long amountMinor, string currency);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Warning, Message = "Stripe customer {CustomerId} of {PublicKey} not saved: the billing settings changed meanwhile")]
    private static partial void LogCustomerNotSaved(ILogger logger, string publicKey, string customerId);
}
