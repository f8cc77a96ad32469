using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Ledger;
using DecentCloud.Functions.Marketplace.Events;
using DecentCloud.Functions.Platform.Queues;
using Stripe;

namespace DecentCloud.Functions.Billing.Payments;

/// <summary>
/// Refunds and disputes of a contract's charge. <c>charge.refunded</c> carries the charge's cumulative
/// <c>amount_refunded</c>: whatever rises above what was credited before becomes one credit note, so two refund events
/// in reverse order yield the right total and a late smaller total does nothing. A dispute's change, once recorded, is
/// published as <c>contract-dispute-changed</c> for the contract's orchestration, which pauses, resumes or ends it.
/// </summary>
public sealed partial class ChargeEvents(ContractRows rows, PaymentIntentIndex intents, QueueWriter queues, DomainEvents events, TimeProvider time, ILogger<ChargeEvents> logger)
{
    private const int MaxWriteAttempts = 8;

    public async Task<EventOutcome> RefundedAsync(Charge charge, DateTimeOffset eventAt, CancellationToken cancellationToken)
    {
        if (await PaymentOfAsync(charge.PaymentIntentId, charge.Metadata, charge.Id, eventAt, cancellationToken) is not { } paid)
        {
            return EventOutcome.Ignored($"charge {charge.Id} is not a payment of a contract");
        }

        var (contractId, sessionId) = paid;
        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            var payment = await rows.FindAsync<PaymentEntity>(contractId, PaymentEntity.RowKeyFor(sessionId), cancellationToken);
            if (payment is not { Status: PaymentStatus.Paid })
            {
                throw new PaymentNotRecordedYetException($"charge {charge.Id} was refunded, but the payment of session {sessionId} is not recorded as paid yet");
            }

            if (charge.AmountRefunded <= payment.RefundedMinor)
            {
                // Queued again on every delivery, as a payment's invoice is: a lost send after the write is made good here.
                var noteKey = CreditNoteEntity.RowKeyFor(sessionId, charge.AmountRefunded);
                if (await rows.FindAsync<CreditNoteEntity>(contractId, noteKey, cancellationToken) is not null)
                {
                    await queues.SendAsync(InvoiceWork.QueueName, new InvoiceWork(contractId, sessionId, noteKey), cancellationToken: cancellationToken);
                }

                return EventOutcome.Ignored($"refunds of charge {charge.Id} up to {charge.AmountRefunded} already credited ({payment.RefundedMinor})");
            }

            var now = time.GetUtcNow();
            var note = new CreditNoteEntity
            {
                PartitionKey = contractId,
                RowKey = CreditNoteEntity.RowKeyFor(sessionId, charge.AmountRefunded),
                SessionId = sessionId,
                ChargeId = charge.Id,
                RefundedMinor = charge.AmountRefunded - payment.RefundedMinor,
                CumulativeRefundedMinor = charge.AmountRefunded,
                Currency = payment.Currency,
                RefundedAt = now,
            };
            // Out of escrow as far as the payment still held it there; beyond that it was released money (docs/ledger.md).
            var posting = LedgerPostings.RefundPaid(contractId, SessionPayments.PaymentMethod, $"{sessionId}:{charge.AmountRefunded}", payment.Currency, note.RefundedMinor, payment.EscrowHeldMinor, now);
            payment.RefundedMinor = charge.AmountRefunded;
            List<Azure.Data.Tables.ITableEntity> writes = [payment, note, posting];

            // The refund owed on this payment is done once Stripe has refunded as far as it reaches.
            var owed = await rows.FindAsync<RefundOwedEntity>(contractId, RefundOwedEntity.RowKeyFor(sessionId), cancellationToken);
            if (owed is { RefundedAt: null } && owed.DoneAt(charge.AmountRefunded))
            {
                owed.RefundedAt = now;
                writes.Add(owed);
            }

            if (await rows.TryWriteAllAsync(writes, cancellationToken))
            {
                LogRefunded(logger, contractId, charge.Id, note.RefundedMinor, note.CumulativeRefundedMinor, note.Currency);
                await queues.SendAsync(InvoiceWork.QueueName, new InvoiceWork(contractId, sessionId, note.RowKey), cancellationToken: cancellationToken);
                return EventOutcome.Done($"refund of {note.RefundedMinor} on contract {contractId} to be credited");
            }
        }

        throw new InvalidOperationException($"recording the refund of charge {charge.Id}: the payment kept changing");
    }

    public async Task<EventOutcome> DisputeAsync(Dispute dispute, DateTimeOffset eventAt, CancellationToken cancellationToken)
    {
        if (await PaymentOfAsync(dispute.PaymentIntentId, dispute.Metadata, dispute.Id, eventAt, cancellationToken) is not { } disputed)
        {
            return EventOutcome.Ignored($"dispute {dispute.Id} is not about a payment of a contract");
        }

        var (contractId, sessionId) = disputed;
        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            var row = await rows.FindAsync<DisputeEntity>(contractId, DisputeEntity.RowKeyPrefix + dispute.Id, cancellationToken);
            if (row is not null && !Newer(row, dispute.Status, eventAt))
            {
                // Published again on every delivery, so a publish lost after the write is made good by the retry.
                await PublishAsync(row, cancellationToken);
                return EventOutcome.Ignored($"dispute {dispute.Id} already {row.Status}");
            }

            var lostNow = dispute.Status == DisputeEntity.Lost && row?.Status != DisputeEntity.Lost;
            row ??= new DisputeEntity { PartitionKey = contractId, RowKey = DisputeEntity.RowKeyPrefix + dispute.Id, DisputeId = dispute.Id };
            row.ChargeId = dispute.ChargeId;
            row.Status = dispute.Status;
            row.Reason = dispute.Reason;
            row.AmountMinor = dispute.Amount;
            row.Currency = (dispute.Currency ?? "").ToUpperInvariant();
            row.LastEventAt = eventAt;
            List<Azure.Data.Tables.ITableEntity> writes = [row];
            if (lostNow)
            {
                // The chargeback is money back to the renter: its ledger transaction and the payment's charged-back
                // amount are written with the dispute turning lost (the payment row If-Match, against a release).
                writes.AddRange(await ChargebackAsync(contractId, sessionId, dispute, cancellationToken));
            }

            if (await rows.TryWriteAllAsync(writes, cancellationToken))
            {
                LogDispute(logger, contractId, dispute.Id, dispute.Status, dispute.Amount);
                await PublishAsync(row, cancellationToken);
                return EventOutcome.Done($"dispute {dispute.Id} on contract {contractId} is {dispute.Status}");
            }
        }

        throw new InvalidOperationException($"recording dispute {dispute.Id}: the row kept changing");
    }

    /// <summary>
    /// A lost dispute's chargeback: the card network gave the disputed amount back to the cardholder. Of it, the escrow
    /// pays the renter's unused share as the refund rules count it for a lost dispute (so the provider keeps what the
    /// served time earned, released or not yet); the rest is the platform's loss (docs/ledger.md, "Chargebacks").
    /// </summary>
    private async Task<Azure.Data.Tables.ITableEntity[]> ChargebackAsync(string contractId, string sessionId, Dispute dispute, CancellationToken cancellationToken)
    {
        var payment = await rows.FindAsync<PaymentEntity>(contractId, PaymentEntity.RowKeyFor(sessionId), cancellationToken)
            ?? throw new PaymentNotRecordedYetException($"dispute {dispute.Id} was lost, but the payment of session {sessionId} is not recorded yet");
        var contract = await rows.ContractAsync(contractId, cancellationToken)
            ?? throw new InvalidOperationException($"dispute {dispute.Id} was lost on contract {contractId}, which does not exist");
        var now = time.GetUtcNow();
        var service = RefundsOwed.ServiceClock(await rows.MovesAsync(contractId, cancellationToken), contract.Hours, now);
        var unused = RefundRules.Owed(RefundReason.DisputeLost, new PaymentHeld(payment.AmountTotalMinor, payment.RefundedMinor + payment.ChargedBackMinor, payment.ReleasedMinor), service);
        var fromEscrow = Math.Min(dispute.Amount, unused);
        payment.ChargedBackMinor += fromEscrow;
        LogChargeback(logger, contractId, dispute.Id, dispute.Amount, fromEscrow, payment.Currency);
        return [payment, LedgerPostings.Chargeback(contractId, SessionPayments.PaymentMethod, dispute.Id, payment.Currency, dispute.Amount, fromEscrow, now)];
    }

    /// <summary>One event id per dispute and status, so the orchestration's queue sees a repeated publish as the same event.</summary>
    private async Task PublishAsync(DisputeEntity row, CancellationToken cancellationToken)
    {
        var id = new Guid(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{EventSubscriptions.ContractDisputeChanged}:{row.DisputeId}:{row.Status}"))[..16]);
        await events.PublishAsync(EventSubscriptions.ContractDisputeChanged, new ContractDisputeChanged(row.PartitionKey, row.DisputeId, row.Status), id, cancellationToken);
    }

    /// <summary>A closed dispute is never reopened by a late "created"; among equals, the later event wins.</summary>
    private static bool Newer(DisputeEntity row, string status, DateTimeOffset eventAt)
    {
        var (had, now) = (DisputeEntity.IsClosed(row.Status), DisputeEntity.IsClosed(status));
        return had == now ? eventAt >= row.LastEventAt && row.Status != status : now;
    }

    /// <summary>An event about a payment still unknown this long after it happened is not about one of ours.</summary>
    public static readonly TimeSpan NotOursAfter = TimeSpan.FromHours(1);

    private async Task<(string ContractId, string SessionId)?> PaymentOfAsync(string? paymentIntentId, Dictionary<string, string>? metadata, string objectId, DateTimeOffset eventAt, CancellationToken cancellationToken)
    {
        if (paymentIntentId is not null && await intents.FindAsync(paymentIntentId, cancellationToken) is { } found)
        {
            return found;
        }

        // The payment intent carries the contract id (set at checkout); the session comes from the paid contract.
        if (metadata?.GetValueOrDefault("contract_id") is { } contractId
            && await rows.ContractAsync(contractId, cancellationToken) is { PaidSessionId: { } sessionId } contract)
        {
            return (contract.PartitionKey, sessionId);
        }

        // Charges and disputes do not carry the payment intent's metadata, so a payment we do not know may be one whose
        // event is still on its way, or not ours at all (the account may serve other products). An hour decides.
        if (time.GetUtcNow() - eventAt > NotOursAfter)
        {
            return null;
        }

        throw new PaymentNotRecordedYetException($"{objectId} names payment intent {paymentIntentId ?? "(none)"}, whose payment is not recorded yet");
    }

    [LoggerMessage(EventId = 8030, Level = LogLevel.Information, Message = "Refund on contract {ContractId}: charge {ChargeId} refunded {RefundedMinor} more ({CumulativeMinor} in all) {Currency}")]
    private static partial void LogRefunded(ILogger logger, string contractId, string chargeId, long refundedMinor, long cumulativeMinor, string currency);

    [LoggerMessage(EventId = 8032, Level = LogLevel.Warning, Message = "Dispute {DisputeId} on contract {ContractId} was lost: chargeback of {AmountMinor} {Currency}, of which {FromEscrowMinor} from escrow")]
    private static partial void LogChargeback(ILogger logger, string contractId, string disputeId, long amountMinor, long fromEscrowMinor, string currency);

    [LoggerMessage(EventId = 8031, Level = LogLevel.Warning, Message = "Dispute {DisputeId} on contract {ContractId} is {Status} ({AmountMinor})")]
    private static partial void LogDispute(ILogger logger, string contractId, string disputeId, string status, long amountMinor);
}

/// <summary>The payload of <c>contract-dispute-changed</c>: the dispute as recorded (Stripe's status: needs_response, won, lost...).</summary>
public sealed record ContractDisputeChanged(string ContractId, string DisputeId, string Status);
