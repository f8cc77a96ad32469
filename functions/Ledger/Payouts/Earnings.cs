using Azure.Data.Tables;
using DecentCloud.Functions.Billing;

namespace DecentCloud.Functions.Ledger.Payouts;

/// <summary>A provider's statement in one currency: its balance and its releases with what payouts settled of each.</summary>
public sealed record ProviderStatement(ProviderBalance Balance, IReadOnlyList<SettledRelease> Releases);

/// <summary>
/// What providers earned and were paid, read from the ledger: the release transactions (in the contracts' partitions of
/// <c>Contracts</c>) and the payout totals (the providers' partitions of <c>Payouts</c>).
/// </summary>
public sealed class Earnings(ContractRows contracts, LedgerStore store)
{
    private static readonly string ReleasePrefix = LedgerTransactionEntity.RowKeyPrefix + LedgerKinds.Release + ":";

    /// <summary>Every release, or one provider's (a scan of the ledger rows of releases).</summary>
    public async Task<List<ReleaseLine>> ReleasesAsync(string? providerPubkey, CancellationToken cancellationToken)
    {
        var end = ReleasePrefix[..^1] + (char)(ReleasePrefix[^1] + 1);
        var filter = providerPubkey is null
            ? TableClient.CreateQueryFilter($"RowKey ge {ReleasePrefix} and RowKey lt {end}")
            : TableClient.CreateQueryFilter($"RowKey ge {ReleasePrefix} and RowKey lt {end} and ProviderPubkey eq {providerPubkey}");
        var releases = new List<ReleaseLine>();
        await foreach (var row in contracts.QueryAsync<LedgerTransactionEntity>(filter, cancellationToken))
        {
            if (row.Kind == LedgerKinds.Release)
            {
                releases.Add(ReleaseLine.Of(row));
            }
        }

        return releases;
    }

    /// <summary>The payout totals per currency: every provider's, or one provider's.</summary>
    public async Task<List<PayoutBalanceEntity>> PaidOutAsync(string? providerPubkey, CancellationToken cancellationToken)
    {
        if (providerPubkey is not null)
        {
            return await store.ListAsync<PayoutBalanceEntity>(providerPubkey, PayoutBalanceEntity.RowKeyPrefix, cancellationToken);
        }

        var end = PayoutBalanceEntity.RowKeyPrefix[..^1] + (char)(PayoutBalanceEntity.RowKeyPrefix[^1] + 1);
        var balances = new List<PayoutBalanceEntity>();
        await foreach (var row in store.QueryAsync<PayoutBalanceEntity>(TableClient.CreateQueryFilter($"RowKey ge {PayoutBalanceEntity.RowKeyPrefix} and RowKey lt {end}"), cancellationToken))
        {
            balances.Add(row);
        }

        return balances;
    }

    /// <summary>The statements of every provider and currency with releases or payouts, or of one provider's.</summary>
    public async Task<List<ProviderStatement>> StatementsAsync(string? providerPubkey, CancellationToken cancellationToken)
    {
        var releases = (await ReleasesAsync(providerPubkey, cancellationToken)).ToLookup(r => (r.ProviderPubkey, r.Currency));
        var paidOut = (await PaidOutAsync(providerPubkey, cancellationToken)).ToDictionary(b => (b.PartitionKey, b.Currency), b => b.PaidOutMinor);
        return releases.Select(g => g.Key).Union(paidOut.Keys)
            .Select(key => Statement(key.Item1, key.Item2, releases[key], paidOut.GetValueOrDefault(key)))
            .OrderBy(s => s.Balance.ProviderPubkey, StringComparer.Ordinal).ThenBy(s => s.Balance.Currency, StringComparer.Ordinal)
            .ToList();
    }

    public static ProviderStatement Statement(string providerPubkey, string currency, IEnumerable<ReleaseLine> releases, long paidOutMinor)
    {
        var settled = PayoutSettlement.Allocate(releases, paidOutMinor);
        return new ProviderStatement(
            new ProviderBalance(providerPubkey, currency, settled.Sum(s => s.Release.AmountMinor), settled.Sum(s => s.Release.FeeMinor), paidOutMinor),
            settled);
    }

    /// <summary>One provider's payouts, newest first.</summary>
    public Task<List<PayoutEntity>> PayoutsAsync(string providerPubkey, CancellationToken cancellationToken) =>
        store.ListAsync<PayoutEntity>(providerPubkey, PayoutEntity.RowKeyPrefix, cancellationToken);
}
