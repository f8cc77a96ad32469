using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Billing.StripeIntegration;

namespace DecentCloud.Functions.Billing.Refunding;

/// <summary>
/// Timer: pays the refunds owed (<see cref="RefundOwedEntity"/>), each against its own payment, through the Stripe
/// Refunds API, once no admin approval is pending. The amount is fixed on the row before Stripe is called and the
/// idempotency key names the payment, so a crash anywhere, or two timer runs at once, never refund twice: every retry
/// sends the same request and Stripe answers it with the same refund. <c>charge.refunded</c> then marks the refund done
/// and issues its credit note.
/// </summary>
public sealed partial class PayRefunds(ContractRows rows, StripeGateway stripe, TimeProvider time, ILogger<PayRefunds> logger)
{
    [Function(nameof(PayRefunds))]
    public async Task Run([TimerTrigger("30 */5 * * * *")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var (paid, failed) = (0, 0);
        // A scan of refund rows across contracts: few, and each is paid once.
        await foreach (var refund in rows.AcrossContractsAsync<RefundOwedEntity>(RefundOwedEntity.RowKeyPrefix, cancellationToken))
        {
            if (refund.RefundedAt is not null || refund.RefundIssuedAt is not null || refund.AwaitsAdminApproval)
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
                // The next run tries again with the same request; one refused refund does not hold up the others.
                failed++;
                LogRefundFailed(logger, ex, refund.PartitionKey, refund.SessionId, refund.IssuingMinor ?? refund.RefundMinor);
            }
        }

        LogSwept(logger, paid, failed);
    }

    private async Task<bool> PayAsync(RefundOwedEntity refund, CancellationToken cancellationToken)
    {
        var found = await rows.FindAsync<PaymentEntity>(refund.PartitionKey, PaymentEntity.RowKeyFor(refund.SessionId), cancellationToken);
        if (found?.Method == PaymentMethods.Icpay)
        {
            // Not a Stripe payment: an admin refunds it in ICPay's dashboard, and payment.refunded marks it done (docs/icpay.md).
            return false;
        }

        if (found is not { PaymentIntentId: { } intent } payment)
        {
            LogNoPayment(logger, refund.PartitionKey, refund.SessionId);
            return false;
        }

        if (refund.IssuingMinor is null)
        {
            // What Stripe refunded of this payment since the refund was computed counts towards it (a refund made by hand in
            // the Dashboard); and never more than the payment still holds (a refund above it is impossible).
            var since = Math.Max(0, payment.RefundedMinor - refund.RefundedBeforeMinor);
            var amount = Math.Min(refund.RefundMinor - since, payment.AmountTotalMinor - payment.RefundedMinor);
            refund.IssuingMinor = Math.Max(0, amount);
            refund.RefundedAtIssueMinor = payment.RefundedMinor;
            if (amount <= 0)
            {
                refund.RefundedAt = time.GetUtcNow();
                LogAlreadyCovered(logger, refund.PartitionKey, refund.SessionId);
            }

            if (!await rows.TryReplaceAsync(refund, cancellationToken))
            {
                // Another run (or charge.refunded) changed the row first; the next run reads it again.
                return false;
            }

            if (amount <= 0)
            {
                return false;
            }
        }

        var issued = await stripe.RefundAsync(intent, refund.IssuingMinor.Value, refund.PartitionKey, refund.SessionId, refund.Reason, cancellationToken);
        refund.RefundIssuedAt = time.GetUtcNow();
        refund.StripeRefundId = issued.Id;
        if (!await rows.TryReplaceAsync(refund, cancellationToken))
        {
            // Changed meanwhile (charge.refunded marked it done): the refund stands; the idempotency key covers a rerun.
            LogMarkLost(logger, refund.PartitionKey, issued.Id);
        }

        LogRefunded(logger, refund.PartitionKey, refund.SessionId, refund.IssuingMinor.Value, refund.Currency, issued.Id);
        return true;
    }

    [LoggerMessage(EventId = 8060, Level = LogLevel.Information, Message = "Refund of {AmountMinor} {Currency} for contract {ContractId}, payment {SessionId}, asked of Stripe: {RefundId}")]
    private static partial void LogRefunded(ILogger logger, string contractId, string sessionId, long amountMinor, string currency, string refundId);

    [LoggerMessage(EventId = 8061, Level = LogLevel.Error, Message = "Refund of {AmountMinor} for contract {ContractId}, payment {SessionId}, failed at Stripe; the next run tries again")]
    private static partial void LogRefundFailed(ILogger logger, Exception exception, string contractId, string sessionId, long amountMinor);

    [LoggerMessage(EventId = 8062, Level = LogLevel.Warning, Message = "Refund for contract {ContractId} names payment {SessionId}, which has no recorded Stripe payment intent")]
    private static partial void LogNoPayment(ILogger logger, string contractId, string sessionId);

    [LoggerMessage(EventId = 8063, Level = LogLevel.Warning, Message = "Refund {RefundId} of contract {ContractId} issued, but its row changed before it was marked")]
    private static partial void LogMarkLost(ILogger logger, string contractId, string refundId);

    [LoggerMessage(EventId = 8064, Level = LogLevel.Information, Message = "Refund sweep: {Paid} refunds asked of Stripe, {Failed} failed")]
    private static partial void LogSwept(ILogger logger, int paid, int failed);

    [LoggerMessage(EventId = 8065, Level = LogLevel.Information, Message = "Refund for contract {ContractId}, payment {SessionId}, is already covered by what Stripe refunded; marked done")]
    private static partial void LogAlreadyCovered(ILogger logger, string contractId, string sessionId);
}
