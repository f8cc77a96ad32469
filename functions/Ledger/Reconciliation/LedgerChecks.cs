using System.Text.Json;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Ledger.Payouts;

namespace DecentCloud.Functions.Ledger.Reconciliation;

/// <summary>One broken invariant: which check, on what (a transaction, a contract, a provider), in which currency, and what was found.</summary>
public sealed record LedgerBreak(string Check, string Subject, string Currency, string Detail);

/// <summary>
/// The invariants of the ledger (docs/ledger.md, "Invariants"), checked over every transaction and the rows they account
/// for, which are fed in one at a time: only sums per account, contract and provider are kept, so the whole ledger is
/// never held in memory.
/// </summary>
public sealed class LedgerChecks
{
    private readonly List<LedgerBreak> breaks = [];
    private readonly Dictionary<(string Contract, string Currency), long> escrow = [];
    private readonly Dictionary<(string Contract, string Currency), long> escrowByRows = [];
    private readonly Dictionary<(string Contract, string Currency), long> released = [];
    private readonly Dictionary<(string Contract, string Currency), long> releasedByRows = [];
    private readonly Dictionary<(string Provider, string Currency), long> payable = [];
    private readonly Dictionary<(string Provider, string Currency), long> paidOut = [];
    private readonly Dictionary<(string Provider, string Currency), long> paidOutByRows = [];
    private readonly Dictionary<string, (string Currency, long Amount)> paymentPostings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Currency, long Amount)> payoutPostings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Currency, long Amount)> paymentRows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Currency, long Amount)> payoutRows = new(StringComparer.Ordinal);

    public int Transactions { get; private set; }

    public int Payments { get; private set; }

    public int Payouts { get; private set; }

    /// <summary>A ledger transaction, from either table.</summary>
    public void Add(LedgerTransactionEntity transaction)
    {
        Transactions++;
        var subject = $"{transaction.PartitionKey}/{transaction.RowKey}";
        IReadOnlyList<LedgerEntry> entries;
        try
        {
            entries = transaction.ReadEntries();
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException)
        {
            breaks.Add(new LedgerBreak("unreadable", subject, transaction.Currency, $"its entries are not readable: {ex.Message}"));
            return;
        }

        var currency = transaction.Currency.ToUpperInvariant();
        var sum = entries.Sum(e => e.AmountMinor);
        if (sum != 0 || entries.Count == 0)
        {
            breaks.Add(new LedgerBreak("unbalanced", subject, currency, $"{transaction.IdempotencyKey}: its {entries.Count} entries sum to {sum}, not 0"));
        }

        foreach (var entry in entries)
        {
            if (entry.Account.StartsWith(LedgerAccounts.EscrowPrefix, StringComparison.Ordinal))
            {
                Add(escrow, (entry.Account[LedgerAccounts.EscrowPrefix.Length..], currency), -entry.AmountMinor);
            }
            else if (entry.Account.StartsWith(LedgerAccounts.PayablePrefix, StringComparison.Ordinal))
            {
                Add(payable, (entry.Account[LedgerAccounts.PayablePrefix.Length..], currency), -entry.AmountMinor);
            }
        }

        switch (transaction.Kind)
        {
            case LedgerKinds.Payment:
                paymentPostings[transaction.IdempotencyKey] = (currency, -entries.Where(e => e.Account.StartsWith(LedgerAccounts.EscrowPrefix, StringComparison.Ordinal)).Sum(e => e.AmountMinor));
                break;
            case LedgerKinds.Release:
                Add(released, (transaction.ContractId ?? "", currency), entries.Where(e => e.Account.StartsWith(LedgerAccounts.EscrowPrefix, StringComparison.Ordinal)).Sum(e => e.AmountMinor));
                break;
            case LedgerKinds.Payout:
                var amount = -entries.Where(e => e.Account == LedgerAccounts.PayoutsPaid).Sum(e => e.AmountMinor);
                payoutPostings[transaction.IdempotencyKey] = (currency, amount);
                Add(paidOut, (transaction.ProviderPubkey ?? "", currency), amount);
                break;
        }
    }

    /// <summary>A payment row (<c>payment-</c> in a contract's partition): a paid one must have its posting and its escrow.</summary>
    public void Add(PaymentEntity payment)
    {
        if (payment.Status != PaymentStatus.Paid)
        {
            return;
        }

        Payments++;
        var currency = payment.Currency.ToUpperInvariant();
        paymentRows[$"payment:{payment.Method ?? PaymentMethods.Stripe}:{payment.SessionId}"] = (currency, payment.AmountTotalMinor);
        Add(escrowByRows, (payment.PartitionKey, currency), payment.EscrowHeldMinor);
        Add(releasedByRows, (payment.PartitionKey, currency), payment.ReleasedMinor);
    }

    /// <summary>A payout row and its provider's payout totals.</summary>
    public void Add(PayoutEntity payout)
    {
        Payouts++;
        payoutRows[payout.LedgerKey] = (payout.Currency, payout.AmountMinor);
    }

    public void Add(PayoutBalanceEntity total) => Add(paidOutByRows, (total.PartitionKey, total.Currency), total.PaidOutMinor);

    /// <summary>Every break found, once everything was added.</summary>
    public IReadOnlyList<LedgerBreak> Breaks()
    {
        var found = new List<LedgerBreak>(breaks);
        foreach (var ((contract, currency), balance) in escrow.Where(e => e.Value < 0))
        {
            found.Add(new LedgerBreak("escrow-negative", contract, currency, $"escrow is {balance}: more was released or refunded than was paid"));
        }

        foreach (var ((provider, currency), balance) in payable.Where(p => p.Value < 0))
        {
            found.Add(new LedgerBreak("payable-negative", provider, currency, $"payable is {balance}: more was paid out than was released"));
        }

        Differences(found, "escrow-differs", escrow, escrowByRows, "escrow on the ledger", "what the payment rows hold (charged - refunded - charged back - released)");
        Differences(found, "released-differs", released, releasedByRows, "released on the ledger", "what the payment rows say released");
        Differences(found, "payouts-differ", paidOut, paidOutByRows, "paid out on the ledger", "the provider's payout total row");
        Matches(found, "payment", paymentRows, paymentPostings);
        Matches(found, "payout", payoutRows, payoutPostings);
        return found;
    }

    private static void Add<TKey>(Dictionary<TKey, long> sums, TKey key, long amount)
        where TKey : notnull => sums[key] = checked(sums.GetValueOrDefault(key) + amount);

    private static void Differences(List<LedgerBreak> found, string check, Dictionary<(string, string), long> ledger, Dictionary<(string, string), long> rows, string ledgerSays, string rowsSay)
    {
        foreach (var key in ledger.Keys.Union(rows.Keys))
        {
            var (onLedger, inRows) = (ledger.GetValueOrDefault(key), rows.GetValueOrDefault(key));
            if (onLedger != inRows)
            {
                found.Add(new LedgerBreak(check, key.Item1, key.Item2, $"{ledgerSays} is {onLedger}, {rowsSay} {inRows}"));
            }
        }
    }

    private static void Matches(List<LedgerBreak> found, string what, Dictionary<string, (string Currency, long Amount)> rows, Dictionary<string, (string Currency, long Amount)> postings)
    {
        foreach (var (key, row) in rows)
        {
            if (!postings.TryGetValue(key, out var posting))
            {
                found.Add(new LedgerBreak($"{what}-not-posted", key, row.Currency, $"the {what} row of {row.Amount} has no ledger transaction"));
            }
            else if (posting != row)
            {
                found.Add(new LedgerBreak($"{what}-differs", key, row.Currency, $"the {what} row says {row.Amount} {row.Currency}, its ledger transaction {posting.Amount} {posting.Currency}"));
            }
        }

        foreach (var (key, posting) in postings.Where(p => !rows.ContainsKey(p.Key)))
        {
            found.Add(new LedgerBreak($"{what}-without-row", key, posting.Currency, $"a {what} of {posting.Amount} is on the ledger without its {what} row"));
        }
    }
}
