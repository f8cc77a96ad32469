using Azure.Data.Tables;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Ledger;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Marketplace.Events;
using DecentCloud.Functions.Platform.Queues;

namespace DecentCloud.Functions.Billing.Icpay;

/// <summary>
/// Applies ICPay payment events to a contract, with the rules of the Stripe payments (docs/billing.md, "Webhook"): the
/// payment row (<c>payment-{ICPay payment id}</c>) and the contract's paid flag change in one ETag-guarded table
/// transaction, a status only moves up in rank, and the invoice and the contract-paid event that follow are themselves
/// deduplicated. So duplicates, any order and several instances yield one payment. A payment is accepted as paid only
/// when ICPay says completed and exactly the amount of the contract's ICPay checkout came, in a token of the contract's
/// currency; anything else is recorded as mismatched for an admin.
/// </summary>
public sealed partial class IcpayPayments(
    ContractRows rows,
    QueueWriter queues,
    ContractEvents contractEvents,
    RefundsOwed refunds,
    TimeProvider time,
    ILogger<IcpayPayments> logger)
{
    private const int MaxWriteAttempts = 8;

    public async Task<EventOutcome> CompletedAsync(IcpayPayment paid, DateTimeOffset eventAt, CancellationToken cancellationToken)
    {
        if (await ContractOfAsync(paid, cancellationToken) is not { } contract)
        {
            return NotOurs(paid);
        }

        var quote = await rows.FindAsync<IcpayQuoteEntity>(contract.PartitionKey, IcpayQuoteEntity.QuoteRowKey, cancellationToken);
        if (Mismatch(paid, contract, quote) is { } mismatch)
        {
            return await MismatchedAsync(contract, paid, quote, mismatch, eventAt, cancellationToken);
        }

        PaymentEntity payment;
        for (var attempt = 1; ; attempt++)
        {
            var found = await rows.FindAsync<PaymentEntity>(contract.PartitionKey, PaymentEntity.RowKeyFor(paid.Id), cancellationToken);
            if (found?.Status == PaymentStatus.Paid)
            {
                payment = found;
                break;
            }

            var row = found ?? new PaymentEntity { PartitionKey = contract.PartitionKey, RowKey = PaymentEntity.RowKeyFor(paid.Id) };
            CopyTo(paid, quote!, row, eventAt);
            row.Status = PaymentStatus.Paid;
            row.PaidAt = eventAt;
            row.MismatchReason = null;
            List<ITableEntity> writes = [row];
            if (contract.PaymentSucceeded && contract.PaidSessionId != paid.Id)
            {
                // Paid twice (through ICPay twice, or through Stripe and ICPay): the money is kept on record and owed back in full.
                row.Duplicate = true;
                LogPaidTwice(logger, contract.PartitionKey, paid.Id, contract.PaidSessionId ?? "");
            }
            else if (!contract.PaymentSucceeded)
            {
                contract.PaymentSucceeded = true;
                contract.PaidSessionId = paid.Id;
                contract.PaidAt = eventAt;
                writes.Add(contract);
            }

            if (refunds.ForPayment(contract, row, time.GetUtcNow()) is { } owed)
            {
                writes.Add(owed);
            }

            if (await RecordAsync(writes, new IcpayMovement(IcpayMovementKind.Payment, contract.PartitionKey, paid.Id, paid.Id, row.Currency, row.AmountTotalMinor, 0, eventAt), cancellationToken))
            {
                payment = row;
                LogPaid(logger, contract.PartitionKey, paid.Id, row.AmountTotalMinor, row.Currency, row.AmountTaxMinor, row.TokenAmount ?? "", row.Token ?? "");
                break;
            }

            if (attempt == MaxWriteAttempts)
            {
                throw new InvalidOperationException($"recording ICPay payment {paid.Id} for contract {contract.PartitionKey}: the contract kept changing ({attempt} attempts)");
            }

            contract = await rows.ContractAsync(contract.PartitionKey, cancellationToken)
                ?? throw new InvalidOperationException($"contract {contract.PartitionKey} disappeared while its ICPay payment was recorded");
        }

        // Repeated on every delivery, so a crash after the transaction above still ends with the invoice and the event.
        await queues.SendAsync(InvoiceWork.QueueName, new InvoiceWork(contract.PartitionKey, paid.Id), cancellationToken: cancellationToken);
        if (!payment.Duplicate)
        {
            await contractEvents.PublishAsync(EventSubscriptions.ContractPaid, contract, cancellationToken, Payments.SessionPayments.PaidEventId(paid.Id));
        }

        return EventOutcome.Done($"ICPay payment {paid.Id} of contract {contract.PartitionKey} recorded{(payment.Duplicate ? " (duplicate: to be refunded)" : "")}");
    }

    public async Task<EventOutcome> FailedAsync(IcpayPayment failed, DateTimeOffset eventAt, CancellationToken cancellationToken)
    {
        if (await ContractOfAsync(failed, cancellationToken) is not { } contract)
        {
            return NotOurs(failed);
        }

        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            var payment = await rows.FindAsync<PaymentEntity>(contract.PartitionKey, PaymentEntity.RowKeyFor(failed.Id), cancellationToken);
            if (payment is not null && PaymentStatus.Rank(payment.Status) >= PaymentStatus.Rank(PaymentStatus.Failed))
            {
                return EventOutcome.Ignored($"ICPay payment {failed.Id} is already {payment.Status}");
            }

            var row = payment ?? NewRow(contract, failed);
            row.Status = PaymentStatus.Failed;
            row.LastEventAt = eventAt > row.LastEventAt ? eventAt : row.LastEventAt;
            if (await rows.TryWriteAllAsync([row], cancellationToken))
            {
                return EventOutcome.Done($"ICPay payment {failed.Id} of contract {contract.PartitionKey} failed");
            }
        }

        throw new InvalidOperationException($"marking ICPay payment {failed.Id} failed: the row kept changing");
    }

    /// <summary>
    /// <c>payment.refunded</c>: ICPay's payment status <c>refunded</c> is of the whole payment (its payment object carries
    /// no partial refunded amount), so the payment is refunded in full: one credit note for what was not credited yet,
    /// and the refund owed on it, if any, done. As with Stripe, a refund of a payment not recorded yet is retried.
    /// </summary>
    public async Task<EventOutcome> RefundedAsync(IcpayPayment refunded, DateTimeOffset eventAt, CancellationToken cancellationToken)
    {
        if (await ContractOfAsync(refunded, cancellationToken) is not { } contract)
        {
            return NotOurs(refunded);
        }

        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            var payment = await rows.FindAsync<PaymentEntity>(contract.PartitionKey, PaymentEntity.RowKeyFor(refunded.Id), cancellationToken);
            if (payment is null or { Status: PaymentStatus.Pending or PaymentStatus.Failed })
            {
                if (time.GetUtcNow() - eventAt > ChargeEvents.NotOursAfter)
                {
                    return EventOutcome.Ignored($"ICPay payment {refunded.Id} was refunded but never recorded as paid");
                }

                throw new PaymentNotRecordedYetException($"ICPay payment {refunded.Id} was refunded, but it is not recorded as paid yet");
            }

            var cumulative = payment.AmountTotalMinor;
            if (cumulative <= payment.RefundedMinor)
            {
                var noteKey = CreditNoteEntity.RowKeyFor(refunded.Id, cumulative);
                if (await rows.FindAsync<CreditNoteEntity>(contract.PartitionKey, noteKey, cancellationToken) is not null)
                {
                    await queues.SendAsync(InvoiceWork.QueueName, new InvoiceWork(contract.PartitionKey, refunded.Id, noteKey), cancellationToken: cancellationToken);
                }

                return EventOutcome.Ignored($"ICPay payment {refunded.Id} already credited as refunded");
            }

            var now = time.GetUtcNow();
            List<ITableEntity> writes = [payment];
            CreditNoteEntity? note = null;
            if (payment.Status == PaymentStatus.Paid)
            {
                // A payment never accepted (mismatched) has no invoice, so its refund has no credit note either.
                note = new CreditNoteEntity
                {
                    PartitionKey = contract.PartitionKey,
                    RowKey = CreditNoteEntity.RowKeyFor(refunded.Id, cumulative),
                    SessionId = refunded.Id,
                    ChargeId = payment.TransactionReference ?? refunded.Id,
                    RefundedMinor = cumulative - payment.RefundedMinor,
                    CumulativeRefundedMinor = cumulative,
                    Currency = payment.Currency,
                    RefundedAt = now,
                };
                writes.Add(note);
            }

            var refundedNow = cumulative - payment.RefundedMinor;
            // A mismatched payment never entered the contract's escrow, so its refund moves nothing on the ledger.
            var movement = payment.Status == PaymentStatus.Paid
                ? new IcpayMovement(IcpayMovementKind.Refund, contract.PartitionKey, refunded.Id, $"{refunded.Id}:{cumulative}", payment.Currency, refundedNow,
                    payment.EscrowHeldMinor, now)
                : null;
            payment.RefundedMinor = cumulative;
            var owed = await rows.FindAsync<RefundOwedEntity>(contract.PartitionKey, RefundOwedEntity.RowKeyFor(refunded.Id), cancellationToken);
            if (owed is { RefundedAt: null } && owed.DoneAt(cumulative))
            {
                owed.RefundedAt = now;
                writes.Add(owed);
            }

            if (await RecordAsync(writes, movement, cancellationToken))
            {
                LogRefunded(logger, contract.PartitionKey, refunded.Id, refundedNow, payment.Currency);
                if (note is not null)
                {
                    await queues.SendAsync(InvoiceWork.QueueName, new InvoiceWork(contract.PartitionKey, refunded.Id, note.RowKey), cancellationToken: cancellationToken);
                }

                return EventOutcome.Done($"refund of ICPay payment {refunded.Id} ({refundedNow}) on contract {contract.PartitionKey} recorded");
            }
        }

        throw new InvalidOperationException($"recording the refund of ICPay payment {refunded.Id}: the payment kept changing");
    }

    /// <summary>
    /// The one place an ICPay payment or refund is written: every row of it in one table transaction of the contract's
    /// partition (the payment, the contract's paid flag, a refund owed, a credit note). False when a row changed meanwhile;
    /// then nothing was written. The escrow ledger's postings for <paramref name="movement"/> (null when no money moves on
    /// the ledger) join <paramref name="writes"/> here, so that money is on the ledger exactly when its payment or refund is
    /// recorded (docs/icpay.md, "Ledger").
    /// </summary>
    private async Task<bool> RecordAsync(List<ITableEntity> writes, IcpayMovement? movement, CancellationToken cancellationToken)
    {
        if (movement is not null)
        {
            writes.Add(movement.Kind == IcpayMovementKind.Payment
                ? LedgerPostings.PaymentReceived(movement.ContractId, PaymentMethods.Icpay, movement.BusinessKey, movement.Currency, movement.AmountMinor, movement.At)
                : LedgerPostings.RefundPaid(movement.ContractId, PaymentMethods.Icpay, movement.BusinessKey, movement.Currency, movement.AmountMinor, movement.EscrowHeldBeforeMinor, movement.At));
        }

        var written = await rows.TryWriteAllAsync(writes, cancellationToken);
        if (written && movement is not null)
        {
            LogRecorded(logger, movement.Kind, movement.ContractId, movement.PaymentId, movement.AmountMinor, movement.Currency);
        }

        return written;
    }

    /// <summary>Why this completed payment cannot be accepted as paying the contract; null when it can.</summary>
    public static string? Mismatch(IcpayPayment paid, ContractEntity contract, IcpayQuoteEntity? quote)
    {
        if (!string.Equals(paid.Status, "completed", StringComparison.Ordinal))
        {
            return $"ICPay reports it {paid.Status ?? "without a status"}, not completed";
        }

        if (IcpayTokens.Of(paid.Token, paid.Network) is not { } token)
        {
            return $"it was paid in {paid.Token ?? "no token"} on {paid.Network ?? "no network"}, which is not accepted";
        }

        if (!string.Equals(token.Currency, contract.Currency, StringComparison.OrdinalIgnoreCase))
        {
            return $"{token.Symbol} pays {token.Currency}, the contract is in {contract.Currency}";
        }

        var paidUnits = IcpayTokens.ParseUnits(paid.PaidAmount ?? paid.Amount);
        var requestedUnits = IcpayTokens.ParseUnits(paid.RequestedAmount);
        if (paidUnits is null || requestedUnits is null)
        {
            return $"its paidAmount '{paid.PaidAmount ?? paid.Amount}' or requestedAmount '{paid.RequestedAmount}' is not an amount in smallest units";
        }

        if (paidUnits != requestedUnits)
        {
            return $"it paid {paidUnits} of the {requestedUnits} requested";
        }

        if (quote is null)
        {
            return "the contract has no ICPay checkout, so there is no price including VAT to compare with";
        }

        var expected = token.ToUnits(quote.GrossMinor);
        return paidUnits != expected
            ? $"it paid {paidUnits} units, the contract's price including VAT is {expected} units ({quote.GrossMinor} {quote.Currency})"
            : null;
    }

    private async Task<EventOutcome> MismatchedAsync(ContractEntity contract, IcpayPayment paid, IcpayQuoteEntity? quote, string reason, DateTimeOffset eventAt, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            var payment = await rows.FindAsync<PaymentEntity>(contract.PartitionKey, PaymentEntity.RowKeyFor(paid.Id), cancellationToken);
            if (payment is not null && PaymentStatus.Rank(payment.Status) >= PaymentStatus.Rank(PaymentStatus.Mismatched))
            {
                return EventOutcome.Ignored($"ICPay payment {paid.Id} is already {payment.Status}");
            }

            var row = payment ?? NewRow(contract, paid);
            if (quote is not null)
            {
                CopyTo(paid, quote, row, eventAt);
            }

            // What arrived, in the contract currency's minor units where the token is one of ours, for the admin's decision.
            if (IcpayTokens.Of(paid.Token, paid.Network) is { } token && IcpayTokens.ParseUnits(paid.PaidAmount ?? paid.Amount) is { } units && token.ToMinor(units) is { } minor)
            {
                row.AmountTotalMinor = minor;
                row.Currency = token.Currency;
            }

            row.Status = PaymentStatus.Mismatched;
            row.MismatchReason = reason;
            if (await rows.TryWriteAllAsync([row], cancellationToken))
            {
                LogMismatched(logger, contract.PartitionKey, paid.Id, reason);
                return EventOutcome.Done($"ICPay payment {paid.Id} of contract {contract.PartitionKey} not accepted as paid: {reason}");
            }
        }

        throw new InvalidOperationException($"recording mismatched ICPay payment {paid.Id}: the row kept changing");
    }

    private static PaymentEntity NewRow(ContractEntity contract, IcpayPayment paid) => new()
    {
        PartitionKey = contract.PartitionKey,
        RowKey = PaymentEntity.RowKeyFor(paid.Id),
        SessionId = paid.Id,
        Method = PaymentMethods.Icpay,
        Currency = contract.Currency,
        Token = paid.Token,
        Network = paid.Network,
        TokenAmount = paid.PaidAmount ?? paid.Amount,
        TransactionReference = paid.Reference,
    };

    /// <summary>The payment as ICPay reports it, with the VAT figures and the buyer of the checkout it paid (what the invoice shows).</summary>
    private static void CopyTo(IcpayPayment paid, IcpayQuoteEntity quote, PaymentEntity row, DateTimeOffset eventAt)
    {
        row.SessionId = paid.Id;
        row.Method = PaymentMethods.Icpay;
        row.LastEventAt = eventAt > row.LastEventAt ? eventAt : row.LastEventAt;
        row.Token = paid.Token;
        row.Network = paid.Network;
        row.TokenAmount = paid.PaidAmount ?? paid.Amount;
        row.TransactionReference = paid.Reference;
        row.Currency = quote.Currency.ToUpperInvariant();
        row.AmountSubtotalMinor = quote.NetMinor;
        row.AmountTaxMinor = quote.VatMinor;
        row.AmountTotalMinor = quote.GrossMinor;
        row.TaxRatePercent = quote.VatRatePercent;
        row.VatTreatment = quote.VatTreatment;
        row.VatSource = quote.VatSource;
        row.BusinessName = quote.BuyerName;
        row.CustomerEmail = quote.BuyerEmail;
        row.AddressLine1 = quote.BuyerLine1;
        row.AddressLine2 = quote.BuyerLine2;
        row.AddressCity = quote.BuyerCity;
        row.AddressPostalCode = quote.BuyerPostalCode;
        row.AddressCountry = quote.BuyerCountry;
        row.TaxIds = quote.BuyerVatId is { } vatId ? $"eu_vat:{vatId}" : null;
    }

    private async Task<ContractEntity?> ContractOfAsync(IcpayPayment payment, CancellationToken cancellationToken) =>
        string.IsNullOrWhiteSpace(payment.ContractId) || Platform.StorageKeys.Problem(payment.ContractId) is not null
            ? null
            : await rows.ContractAsync(payment.ContractId, cancellationToken);

    private EventOutcome NotOurs(IcpayPayment payment)
    {
        LogNotOurs(logger, payment.Id, IcpayMetadata.ContractIdKey, payment.ContractId ?? "");
        return EventOutcome.Ignored($"ICPay payment {payment.Id} names no known contract in metadata.{IcpayMetadata.ContractIdKey}");
    }

    [LoggerMessage(EventId = 8715, Level = LogLevel.Debug, Message = "ICPay {Kind} recorded on contract {ContractId}: payment {PaymentId}, {AmountMinor} {Currency}")]
    private static partial void LogRecorded(ILogger logger, IcpayMovementKind kind, string contractId, string paymentId, long amountMinor, string currency);

    [LoggerMessage(EventId = 8710, Level = LogLevel.Information, Message = "ICPay payment {PaymentId} of contract {ContractId} recorded: {AmountMinor} {Currency} of which VAT {TaxMinor} ({TokenAmount} {Token} units)")]
    private static partial void LogPaid(ILogger logger, string contractId, string paymentId, long amountMinor, string currency, long taxMinor, string tokenAmount, string token);

    [LoggerMessage(EventId = 8711, Level = LogLevel.Warning, Message = "Contract {ContractId} was paid again through ICPay payment {PaymentId} (first paid by {FirstPaymentId}): the second payment is owed back in full")]
    private static partial void LogPaidTwice(ILogger logger, string contractId, string paymentId, string firstPaymentId);

    [LoggerMessage(EventId = 8712, Level = LogLevel.Error, Message = "ICPay payment {PaymentId} of contract {ContractId} is not accepted as paid and waits for an admin: {Reason}")]
    private static partial void LogMismatched(ILogger logger, string contractId, string paymentId, string reason);

    [LoggerMessage(EventId = 8713, Level = LogLevel.Warning, Message = "ICPay payment {PaymentId} names no known contract (metadata.{Key} '{ContractId}'); event acknowledged and ignored")]
    private static partial void LogNotOurs(ILogger logger, string paymentId, string key, string contractId);

    [LoggerMessage(EventId = 8714, Level = LogLevel.Information, Message = "Refund on contract {ContractId}: ICPay payment {PaymentId} refunded {RefundedMinor} {Currency}")]
    private static partial void LogRefunded(ILogger logger, string contractId, string paymentId, long refundedMinor, string currency);
}

public enum IcpayMovementKind
{
    /// <summary>A payment accepted as paid: the renter's money is received and held for the contract.</summary>
    Payment,

    /// <summary>A payment refunded through ICPay.</summary>
    Refund,
}

/// <summary>What an ICPay write moves, for the ledger's postings in the same transaction (<c>IcpayPayments.RecordAsync</c>).</summary>
/// <param name="BusinessKey">The event's idempotency key for the ledger: the payment id, or <c>{payment id}:{refunded total}</c> for a refund.</param>
/// <param name="EscrowHeldBeforeMinor">For a refund, what the payment held in escrow before it (charged, less refunded and released).</param>
public sealed record IcpayMovement(IcpayMovementKind Kind, string ContractId, string PaymentId, string BusinessKey, string Currency, long AmountMinor, long EscrowHeldBeforeMinor, DateTimeOffset At);
