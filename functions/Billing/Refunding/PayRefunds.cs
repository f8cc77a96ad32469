using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Billing.StripeIntegration;
using DecentCloud.Functions.Hosting.Timers;
using DecentCloud.Functions.Marketplace.Contracts;

namespace DecentCloud.Functions.Billing.Refunding;

/// <summary>
/// Timer: pays out the refunds the platform owes (rows written with the move that caused them: a rejected, expired or
/// failed paid contract, a payment after the contract ended) through the Stripe Refunds API, once no admin approval
/// is pending. Stripe's idempotency key is the contract's refund, so a crash after Stripe's answer cannot refund
/// twice. <c>charge.refunded</c> then issues the credit note and marks the refund done.
/// </summary>
public sealed partial class PayRefunds(ContractRows rows, StripeGateway stripe, TimeProvider time, ILogger<PayRefunds> logger) : ITimerFunction
{
    public async Task Run(TimerInfo timer, CancellationToken cancellationToken)
    {
        var (paid, failed) = (0, 0);
        // A scan of refund rows across contracts: few, and each is paid once.
        await foreach (var refund in rows.AcrossContractsAsync<RefundRequestEntity>(RefundRequestEntity.RefundRowKey, cancellationToken))
        {
            if (refund.RefundedAt is not null || refund.RefundIssuedAt is not null || refund.AwaitsAdminApproval || refund.RefundMinor <= 0)
            {
                continue;
            }

            try
            {
                if (await PayAsync(refund, cancellationToken))
                {
                    paid++;
                }
            }
            catch (StripeCallException ex)
            {
                // The next run tries again; one refused refund does not hold up the others.
                failed++;
                LogRefundFailed(logger, ex, refund.PartitionKey, refund.RefundMinor);
            }
        }

        LogSwept(logger, paid, failed);
    }

    private async Task<bool> PayAsync(RefundRequestEntity refund, CancellationToken cancellationToken)
    {
        var contract = await rows.ContractAsync(refund.PartitionKey, cancellationToken);
        if (contract?.PaidSessionId is not { } sessionId
            || await rows.FindAsync<PaymentEntity>(refund.PartitionKey, PaymentEntity.RowKeyFor(sessionId), cancellationToken) is not { PaymentIntentId: { } intent } payment)
        {
            LogNoPayment(logger, refund.PartitionKey);
            return false;
        }

        // Never more than the payment still holds (DOMAIN.md: a refund larger than its payment is impossible).
        var amount = Math.Min(refund.RefundMinor, payment.AmountTotalMinor - payment.RefundedMinor);
        if (amount <= 0)
        {
            return false;
        }

        var issued = await stripe.RefundAsync(intent, amount, refund.PartitionKey, refund.Reason, cancellationToken);
        refund.RefundIssuedAt = time.GetUtcNow();
        refund.StripeRefundId = issued.Id;
        if (!await rows.TryReplaceAsync(refund, cancellationToken))
        {
            // Changed meanwhile (charge.refunded marked it done): the refund stands; the idempotency key covers a rerun.
            LogMarkLost(logger, refund.PartitionKey, issued.Id);
        }

        LogRefunded(logger, refund.PartitionKey, amount, refund.Currency, issued.Id);
        return true;
    }

    [LoggerMessage(EventId = 8060, Level = LogLevel.Information, Message = "Refund of {AmountMinor} {Currency} for contract {ContractId} asked of Stripe: {RefundId}")]
    private static partial void LogRefunded(ILogger logger, string contractId, long amountMinor, string currency, string refundId);

    [LoggerMessage(EventId = 8061, Level = LogLevel.Error, Message = "Refund of {AmountMinor} for contract {ContractId} failed at Stripe; the next run tries again")]
    private static partial void LogRefundFailed(ILogger logger, Exception exception, string contractId, long amountMinor);

    [LoggerMessage(EventId = 8062, Level = LogLevel.Warning, Message = "Refund for contract {ContractId} has no recorded Stripe payment to refund")]
    private static partial void LogNoPayment(ILogger logger, string contractId);

    [LoggerMessage(EventId = 8063, Level = LogLevel.Warning, Message = "Refund {RefundId} of contract {ContractId} issued, but its row changed before it was marked")]
    private static partial void LogMarkLost(ILogger logger, string contractId, string refundId);

    [LoggerMessage(EventId = 8064, Level = LogLevel.Information, Message = "Refund sweep: {Paid} refunds asked of Stripe, {Failed} failed")]
    private static partial void LogSwept(ILogger logger, int paid, int failed);
}
