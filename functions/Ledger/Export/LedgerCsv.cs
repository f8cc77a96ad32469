using System.Globalization;
using System.Text;

namespace DecentCloud.Functions.Ledger.Export;

/// <summary>
/// The ledger as CSV for an accountant (RFC 4180): a header, then one line per entry, CRLF line ends, a field quoted when
/// it holds a comma, a quote, CR or LF, its quotes doubled.
/// </summary>
public static class LedgerCsv
{
    public const string Header = "transaction_key,kind,occurred_at,contract_id,provider_pubkey,account,currency,amount_minor,reference";

    /// <summary>The lines of one transaction: one per entry.</summary>
    public static IEnumerable<string> Lines(LedgerTransactionEntity transaction)
    {
        var at = transaction.OccurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        foreach (var entry in transaction.ReadEntries())
        {
            yield return Line(
                transaction.IdempotencyKey, transaction.Kind, at, transaction.ContractId, transaction.ProviderPubkey, entry.Account, transaction.Currency,
                entry.AmountMinor.ToString(CultureInfo.InvariantCulture), transaction.Reference);
        }
    }

    public static string Line(params string?[] fields) => string.Join(',', fields.Select(Field));

    public static string Field(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        return value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : new StringBuilder(value.Length + 2).Append('"').Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"').ToString();
    }
}
