namespace DecentCloud.Functions.Ledger;

/// <summary>Balances derived from ledger transactions: the signed sum of each account's entries per currency (debit positive).</summary>
public static class LedgerBalances
{
    public static Dictionary<(string Account, string Currency), long> Of(IEnumerable<LedgerTransactionEntity> transactions)
    {
        var balances = new Dictionary<(string, string), long>();
        foreach (var transaction in transactions)
        {
            foreach (var entry in transaction.ReadEntries())
            {
                var key = (entry.Account, transaction.Currency);
                balances[key] = checked(balances.GetValueOrDefault(key) + entry.AmountMinor);
            }
        }

        return balances;
    }

    /// <summary>A credit-normal account's balance (escrow, payable, fees, refunds paid, payouts paid), shown positive.</summary>
    public static long Credit(this Dictionary<(string Account, string Currency), long> balances, string account, string currency) =>
        -balances.GetValueOrDefault((account, currency));

    /// <summary>A debit-normal account's balance (payments received, platform losses).</summary>
    public static long Debit(this Dictionary<(string Account, string Currency), long> balances, string account, string currency) =>
        balances.GetValueOrDefault((account, currency));

    /// <summary>Whether the entries of a transaction sum to zero (in its one currency).</summary>
    public static bool IsBalanced(LedgerTransactionEntity transaction) => transaction.ReadEntries().Sum(e => e.AmountMinor) == 0;
}
