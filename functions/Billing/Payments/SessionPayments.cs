using DecentCloud.Functions.Billing.Checkout;
using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Billing.StripeIntegration;
using DecentCloud.Functions.Ledger;
using DecentCloud.Functions.Platform.Queues;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Marketplace.Events;
using Stripe.Checkout;

namespace DecentCloud.Functions.Billing.Payments;

/// <summary>
/// Applies Checkout Session events to a contract's payment. Every step is idempotent: the payment row and the
/// contract's paid flag change in one ETag-guarded transaction, a status only moves up in rank, and the invoice
/// message that follows is itself deduplicated by the issuer. So duplicates, any order and several instances
/// yield one payment record.
/// </summary>
public sealed partial class SessionPayments(
    ContractRows rows,
    PaymentIntentIndex intents,
    QueueWriter queues,
    ContractEvents contractEvents,
    StripeGateway stripe,
    RefundsOwed refunds,
    TimeProvider time,
    ILogger<SessionPayments> logger)
{
    private const int MaxWriteAttempts = 8;

    /// <summary>The method of the ledger's idempotency keys (<c>payment:stripe:{session id}</c>).</summary>
    public const string PaymentMethod = "stripe";

    public async Task<EventOutcome> PaidAsync(Session session, DateTimeOffset eventAt, CancellationToken cancellationToken)
    {
        if (await ContractOfAsync(session, cancellationToken) is not { } contract)
        {
            return NotOurs(session);
        }

        PaymentEntity? payment = null;
        var detailed = false;
        for (var attempt = 1; ; attempt++)
        {
            payment = await rows.FindAsync<PaymentEntity>(contract.PartitionKey, PaymentEntity.RowKeyFor(session.Id), cancellationToken);
            if (payment?.Status == PaymentStatus.Paid)
            {
                break;
            }

            // Asked of Stripe once, and only while the payment is not recorded: a redelivery does not call Stripe again.
            if (!detailed)
            {
                session = await WithTaxBreakdownAsync(session, cancellationToken);
                detailed = true;
            }

            var row = payment ?? new PaymentEntity { PartitionKey = contract.PartitionKey, RowKey = PaymentEntity.RowKeyFor(session.Id) };
            SessionFields.CopyTo(session, row, eventAt);
            row.Status = PaymentStatus.Paid;
            row.PaidAt = eventAt;
            List<Azure.Data.Tables.ITableEntity> writes = [row];
            if (contract.PaymentSucceeded && contract.PaidSessionId != session.Id)
            {
                // Paid twice through two sessions: keep the money on record; it is owed back in full (below).
                row.Duplicate = true;
                LogPaidTwice(logger, contract.PartitionKey, session.Id, contract.PaidSessionId ?? "");
            }
            else if (!contract.PaymentSucceeded)
            {
                contract.PaymentSucceeded = true;
                contract.PaidSessionId = session.Id;
                contract.PaidAt = eventAt;
                writes.Add(contract);
            }

            // The money is in escrow from now on: its ledger transaction is written with the payment (docs/ledger.md).
            writes.Add(LedgerPostings.PaymentReceived(contract.PartitionKey, PaymentMethod, session.Id, row.Currency, row.AmountTotalMinor, eventAt));

            // A second payment, or one that came after the contract ended, is owed back with its record: both or neither.
            if (refunds.ForPayment(contract, row, time.GetUtcNow()) is { } owed)
            {
                writes.Add(owed);
            }

            if (await rows.TryWriteAllAsync(writes, cancellationToken))
            {
                payment = row;
                LogPaid(logger, contract.PartitionKey, session.Id, row.AmountTotalMinor, row.Currency, row.AmountTaxMinor);
                break;
            }

            if (attempt == MaxWriteAttempts)
            {
                throw new InvalidOperationException($"recording the payment of session {session.Id} for contract {contract.PartitionKey}: the contract kept changing ({attempt} attempts)");
            }

            contract = await rows.ContractAsync(contract.PartitionKey, cancellationToken)
                ?? throw new InvalidOperationException($"contract {session.ClientReferenceId} disappeared while its payment was recorded");
        }

        // Repeated on every delivery, so a crash after the transaction above still ends with the index and the invoice.
        if (payment.PaymentIntentId is { } intent)
        {
            await intents.RecordAsync(intent, contract.PartitionKey, session.Id, cancellationToken);
        }

        await CloseCheckoutAsync(contract.PartitionKey, session.Id, CheckoutStatus.Complete, cancellationToken);
        await queues.SendAsync(InvoiceWork.QueueName, new InvoiceWork(contract.PartitionKey, session.Id), cancellationToken: cancellationToken);
        if (!payment.Duplicate)
        {
            // Every delivery sends it again with the same id, derived from the session, so subscribers see one event.
            await contractEvents.PublishAsync(EventSubscriptions.ContractPaid, contract, cancellationToken, PaidEventId(session.Id));
        }
        return EventOutcome.Done($"payment of contract {contract.PartitionKey} recorded{(payment.Duplicate ? " (duplicate: to be refunded)" : "")}");
    }

    public static Guid PaidEventId(string sessionId) =>
        new(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{EventSubscriptions.ContractPaid}:{sessionId}"))[..16]);

    /// <summary>
    /// The session as Stripe has it now, with the tax breakdown the event leaves out. If Stripe cannot be asked, the
    /// event's copy is used (the payment is recorded all the same; the invoice then derives the rate, and decides reverse
    /// charge from VIES).
    /// </summary>
    private async Task<Session> WithTaxBreakdownAsync(Session session, CancellationToken cancellationToken)
    {
        if (session.AutomaticTax is not { Enabled: true, Status: "complete" } || session.TotalDetails?.Breakdown is not null)
        {
            return session;
        }

        try
        {
            return await stripe.SessionWithTaxAsync(session.Id, cancellationToken);
        }
        catch (StripeCallException ex)
        {
            LogNoBreakdown(logger, ex, session.Id);
            return session;
        }
    }

    /// <summary>A session completed with a delayed payment method still pending: recorded, nothing settled.</summary>
    public Task<EventOutcome> PendingAsync(Session session, DateTimeOffset eventAt, CancellationToken cancellationToken) =>
        MoveAsync(session, eventAt, PaymentStatus.Pending, CheckoutStatus.Pending, cancellationToken);

    public Task<EventOutcome> FailedAsync(Session session, DateTimeOffset eventAt, CancellationToken cancellationToken) =>
        MoveAsync(session, eventAt, PaymentStatus.Failed, CheckoutStatus.Failed, cancellationToken);

    public Task<EventOutcome> ExpiredAsync(Session session, DateTimeOffset eventAt, CancellationToken cancellationToken) =>
        MoveAsync(session, eventAt, PaymentStatus.Expired, CheckoutStatus.Expired, cancellationToken);

    private async Task<EventOutcome> MoveAsync(Session session, DateTimeOffset eventAt, string status, string? checkoutStatus, CancellationToken cancellationToken)
    {
        if (await ContractOfAsync(session, cancellationToken) is not { } contract)
        {
            return NotOurs(session);
        }

        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            var payment = await rows.FindAsync<PaymentEntity>(contract.PartitionKey, PaymentEntity.RowKeyFor(session.Id), cancellationToken);
            if (payment is not null && PaymentStatus.Rank(payment.Status) >= PaymentStatus.Rank(status))
            {
                return EventOutcome.Ignored($"payment of session {session.Id} is already {payment.Status}");
            }

            var row = payment ?? new PaymentEntity { PartitionKey = contract.PartitionKey, RowKey = PaymentEntity.RowKeyFor(session.Id) };
            SessionFields.CopyTo(session, row, eventAt);
            row.Status = status;
            if (await rows.TryWriteAllAsync([row], cancellationToken))
            {
                if (checkoutStatus is not null)
                {
                    await CloseCheckoutAsync(contract.PartitionKey, session.Id, checkoutStatus, cancellationToken);
                }

                return EventOutcome.Done($"payment of session {session.Id} is {status}");
            }
        }

        throw new InvalidOperationException($"marking the payment of session {session.Id} {status}: the row kept changing");
    }

    /// <summary>Marks the stored checkout session done with, so the next checkout call opens a new one (or none, once paid).</summary>
    private async Task CloseCheckoutAsync(string contractId, string sessionId, string status, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            var checkout = await rows.FindAsync<CheckoutEntity>(contractId, CheckoutEntity.CheckoutRowKey, cancellationToken);
            // open, then pending (a delayed payment), then one of complete, failed, expired: never back.
            if (checkout is null || checkout.SessionId != sessionId || checkout.Status is not (CheckoutStatus.Open or CheckoutStatus.Pending) || checkout.Status == status)
            {
                return;
            }

            checkout.Status = status;
            if (await rows.TryReplaceAsync(checkout, cancellationToken))
            {
                return;
            }
        }
    }

    private async Task<ContractEntity?> ContractOfAsync(Session session, CancellationToken cancellationToken)
    {
        var contractId = session.Metadata?.GetValueOrDefault("contract_id") ?? session.ClientReferenceId;
        return string.IsNullOrWhiteSpace(contractId) ? null : await rows.ContractAsync(contractId, cancellationToken);
    }

    private EventOutcome NotOurs(Session session)
    {
        LogNotOurs(logger, session.Id, session.Metadata?.GetValueOrDefault("contract_id") ?? session.ClientReferenceId ?? "");
        return EventOutcome.Ignored($"session {session.Id} names no known contract");
    }

    [LoggerMessage(EventId = 8020, Level = LogLevel.Information, Message = "Payment of contract {ContractId} recorded: session {SessionId}, {AmountMinor} {Currency} of which tax {TaxMinor}")]
    private static partial void LogPaid(ILogger logger, string contractId, string sessionId, long amountMinor, string currency, long taxMinor);

    [LoggerMessage(EventId = 8021, Level = LogLevel.Warning, Message = "Contract {ContractId} was paid again through session {SessionId} (first paid by {FirstSessionId}): the second payment is owed back in full")]
    private static partial void LogPaidTwice(ILogger logger, string contractId, string sessionId, string firstSessionId);

    [LoggerMessage(EventId = 8022, Level = LogLevel.Warning, Message = "Checkout session {SessionId} names no known contract ('{ContractId}'); event acknowledged and ignored")]
    private static partial void LogNotOurs(ILogger logger, string sessionId, string contractId);

    [LoggerMessage(EventId = 8024, Level = LogLevel.Warning, Message = "Checkout session {SessionId} could not be read back with its tax breakdown; the event's copy is used")]
    private static partial void LogNoBreakdown(ILogger logger, Exception exception, string sessionId);
}

/// <summary>Copies what a Checkout Session says about the money and the buyer onto the payment row.</summary>
internal static class SessionFields
{
    public static void CopyTo(Session session, PaymentEntity row, DateTimeOffset eventAt)
    {
        row.SessionId = session.Id;
        row.LastEventAt = eventAt > row.LastEventAt ? eventAt : row.LastEventAt;
        row.PaymentIntentId = session.PaymentIntentId ?? row.PaymentIntentId;
        row.Currency = (session.Currency ?? row.Currency).ToUpperInvariant();
        row.AmountSubtotalMinor = session.AmountSubtotal ?? row.AmountSubtotalMinor;
        row.AmountTotalMinor = session.AmountTotal ?? row.AmountTotalMinor;
        row.AmountTaxMinor = session.TotalDetails?.AmountTax ?? 0;
        row.AutomaticTaxStatus = session.AutomaticTax is { Enabled: true } tax ? tax.Status : null;
        var breakdown = session.TotalDetails?.Breakdown?.Taxes;
        if (breakdown is { Count: > 0 })
        {
            row.TaxRatePercent = breakdown.Select(t => t.Rate?.Percentage).Distinct().Count() == 1 && breakdown[0].Rate is { } rate
                ? rate.Percentage.ToString(System.Globalization.CultureInfo.InvariantCulture)
                : null;
            row.TaxabilityReason = breakdown[0].TaxabilityReason;
        }

        if (session.CustomerDetails is { } customer)
        {
            row.CustomerName = customer.Name;
            row.BusinessName = customer.BusinessName;
            row.CustomerEmail = customer.Email;
            row.TaxExempt = customer.TaxExempt;
            row.AddressLine1 = customer.Address?.Line1;
            row.AddressLine2 = customer.Address?.Line2;
            row.AddressCity = customer.Address?.City;
            row.AddressPostalCode = customer.Address?.PostalCode;
            row.AddressState = customer.Address?.State;
            row.AddressCountry = customer.Address?.Country?.ToUpperInvariant();
            row.TaxIds = customer.TaxIds is { Count: > 0 } ids ? string.Join(',', ids.Select(id => $"{id.Type}:{id.Value}")) : null;
        }
    }
}
