using Azure.Data.Tables;

namespace DecentCloud.Functions.Ledger;

/// <summary>
/// The ledger transaction of each business event (docs/ledger.md, "Entries per business event"). Each method only builds
/// the row: the caller adds it to the table transaction that writes the business row it accounts for (the payment row,
/// the refund's credit note, the dispute, the release, the payout), so both are written or neither. The row has no ETag,
/// so it is added: a second post of the same event fails that table transaction with 409, and the caller, reading again,
/// finds its business row already written.
/// </summary>
public static class LedgerPostings
{
    /// <summary>
    /// A renter's payment for a contract came in: debit renter payments received, credit the contract's escrow. Key
    /// <c>payment:{method}:{paymentId}</c> (method <c>stripe</c> with the Checkout Session id, <c>icpay</c> with ICPay's
    /// payment id). In the contract's partition of <c>Contracts</c>.
    /// </summary>
    public static LedgerTransactionEntity PaymentReceived(string contractId, string method, string paymentId, string currency, long amountMinor, DateTimeOffset at)
    {
        NotNegative(amountMinor, nameof(amountMinor));
        return Transaction(contractId, LedgerKinds.Payment, $"payment:{method}:{paymentId}", currency, at, contractId, null, paymentId,
            [new(LedgerAccounts.PaymentsReceived, amountMinor), new(LedgerAccounts.Escrow(contractId), -amountMinor)]);
    }

    /// <summary>
    /// Money went back to the renter (a refund the payment provider reports done): debit the contract's escrow for as much
    /// of it as the payment still held in escrow (<paramref name="escrowHeldMinor"/>, before this refund), debit platform
    /// losses for the rest (money already released to the provider), credit refunds paid. Key
    /// <c>refund:{method}:{refundId}</c>.
    /// </summary>
    public static LedgerTransactionEntity RefundPaid(string contractId, string method, string refundId, string currency, long amountMinor, long escrowHeldMinor, DateTimeOffset at) =>
        MoneyBack(LedgerKinds.Refund, contractId, method, refundId, currency, amountMinor, escrowHeldMinor, at);

    /// <summary>
    /// A lost dispute: the card network returned <paramref name="amountMinor"/> to the cardholder. Debit the contract's
    /// escrow by <paramref name="fromEscrowMinor"/> (the renter's unused share, by the refund rules), platform losses by
    /// the rest, credit refunds paid. Key <c>chargeback:{method}:{disputeId}</c>.
    /// </summary>
    public static LedgerTransactionEntity Chargeback(string contractId, string method, string disputeId, string currency, long amountMinor, long fromEscrowMinor, DateTimeOffset at) =>
        MoneyBack(LedgerKinds.Chargeback, contractId, method, disputeId, currency, amountMinor, fromEscrowMinor, at);

    /// <summary>
    /// The provider earned <paramref name="amountMinor"/> of the contract's payment for the time served up to
    /// <paramref name="periodEnd"/>: debit escrow, credit the provider's payable; the platform fee is its own pair of
    /// entries, debit the payable, credit platform fees. Key <c>release:{contract}:{period end, yyyyMMddTHHmmssZ}</c>.
    /// </summary>
    public static LedgerTransactionEntity Released(string contractId, string providerPubkey, DateTimeOffset periodEnd, string currency, long amountMinor, long feeMinor, DateTimeOffset at)
    {
        NotNegative(amountMinor, nameof(amountMinor));
        if (feeMinor < 0 || feeMinor > amountMinor)
        {
            throw new ArgumentOutOfRangeException(nameof(feeMinor), feeMinor, "The fee must be between 0 and the amount released.");
        }

        List<LedgerEntry> entries = [new(LedgerAccounts.Escrow(contractId), amountMinor), new(LedgerAccounts.Payable(providerPubkey), -amountMinor)];
        if (feeMinor > 0)
        {
            entries.Add(new(LedgerAccounts.Payable(providerPubkey), feeMinor));
            entries.Add(new(LedgerAccounts.PlatformFees, -feeMinor));
        }

        return Transaction(contractId, LedgerKinds.Release, ReleaseKey(contractId, periodEnd), currency, at, contractId, providerPubkey, null, entries);
    }

    public static string ReleaseKey(string contractId, DateTimeOffset periodEnd) =>
        $"release:{contractId}:{periodEnd.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>
    /// An admin paid the provider outside the system (icpay.org dashboard, bank transfer) and recorded it: debit the
    /// provider's payable, credit payouts paid. Key <c>payout:{provider}:{currency}:{transfer reference}</c>; in the
    /// provider's partition of <c>Payouts</c>.
    /// </summary>
    public static LedgerTransactionEntity PayoutPaid(string providerPubkey, string currency, string transferReference, long amountMinor, DateTimeOffset at)
    {
        NotNegative(amountMinor, nameof(amountMinor));
        return Transaction(providerPubkey, LedgerKinds.Payout, $"payout:{providerPubkey}:{currency}:{transferReference}", currency, at, null, providerPubkey, transferReference,
            [new(LedgerAccounts.Payable(providerPubkey), amountMinor), new(LedgerAccounts.PayoutsPaid, -amountMinor)]);
    }

    /// <summary>The row as an action of a table transaction: always an add, so a second post of the event fails it (409).</summary>
    public static TableTransactionAction AsAction(this LedgerTransactionEntity transaction) => new(TableTransactionActionType.Add, transaction);

    private static LedgerTransactionEntity MoneyBack(string kind, string contractId, string method, string id, string currency, long amountMinor, long escrowMinor, DateTimeOffset at)
    {
        NotNegative(amountMinor, nameof(amountMinor));
        var fromEscrow = Math.Clamp(escrowMinor, 0, amountMinor);
        List<LedgerEntry> entries = [new(LedgerAccounts.Escrow(contractId), fromEscrow)];
        if (amountMinor > fromEscrow)
        {
            entries.Add(new(LedgerAccounts.PlatformLosses, amountMinor - fromEscrow));
        }

        entries.Add(new(LedgerAccounts.RefundsPaid, -amountMinor));
        return Transaction(contractId, kind, $"{kind}:{method}:{id}", currency, at, contractId, null, id, entries);
    }

    private static LedgerTransactionEntity Transaction(
        string partitionKey, string kind, string key, string currency, DateTimeOffset at, string? contractId, string? provider, string? reference, IReadOnlyList<LedgerEntry> entries)
    {
        if (string.IsNullOrWhiteSpace(currency))
        {
            throw new ArgumentException("A ledger transaction needs its currency.", nameof(currency));
        }

        var row = new LedgerTransactionEntity
        {
            PartitionKey = partitionKey,
            RowKey = LedgerTransactionEntity.RowKeyFor(kind, key),
            IdempotencyKey = key,
            Kind = kind,
            Currency = currency.Trim().ToUpperInvariant(),
            OccurredAt = at,
            ContractId = contractId,
            ProviderPubkey = provider,
            Reference = reference,
        };
        row.WriteEntries(entries);
        return row;
    }

    private static void NotNegative(long amountMinor, string name)
    {
        if (amountMinor < 0)
        {
            throw new ArgumentOutOfRangeException(name, amountMinor, "Ledger amounts are not negative; the entries carry the direction.");
        }
    }
}
