namespace DecentCloud.Functions.Ledger.Payouts;

/// <summary>One release of a contract's escrow to its provider, as the provider's earnings count it.</summary>
/// <param name="TransactionKey">The release's ledger key, <c>release:{contract}:{period end}</c>.</param>
/// <param name="AmountMinor">What was released from escrow.</param>
/// <param name="FeeMinor">The platform's fee taken from it.</param>
public sealed record ReleaseLine(string TransactionKey, string ContractId, string ProviderPubkey, string Currency, DateTimeOffset PeriodEnd, long AmountMinor, long FeeMinor)
{
    /// <summary>What the release added to the provider's payable.</summary>
    public long NetMinor => AmountMinor - FeeMinor;

    /// <summary>A release transaction's line: the escrow it debits is the amount, the platform fees it credits the fee.</summary>
    public static ReleaseLine Of(LedgerTransactionEntity release)
    {
        var entries = release.ReadEntries();
        return new ReleaseLine(
            release.IdempotencyKey,
            release.ContractId ?? "",
            release.ProviderPubkey ?? "",
            release.Currency,
            release.OccurredAt,
            entries.Where(e => e.Account.StartsWith(LedgerAccounts.EscrowPrefix, StringComparison.Ordinal)).Sum(e => e.AmountMinor),
            -entries.Where(e => e.Account == LedgerAccounts.PlatformFees).Sum(e => e.AmountMinor));
    }
}

/// <summary>A release, how much of its net amount a stretch of payouts settled, and what of it is left unsettled after them.</summary>
public sealed record SettledRelease(ReleaseLine Release, long SettledMinor, long OutstandingMinor);

/// <summary>
/// How payouts settle released money (docs/payouts.md, "Settlement"): oldest release first. A provider's releases in one
/// currency, ordered by period end (then contract and key), form one running sum of net amounts; what has been paid out
/// in all settles that sum from its start, so payout n settles the stretch from what was paid out before it for its
/// amount. Nothing is stored per release: the settlement follows from the releases and the payout totals, and a payout
/// can never settle more than was released because it is refused beyond what is owed.
/// </summary>
public static class PayoutSettlement
{
    public static IEnumerable<ReleaseLine> Oldest(IEnumerable<ReleaseLine> releases) =>
        releases.OrderBy(r => r.PeriodEnd).ThenBy(r => r.ContractId, StringComparer.Ordinal).ThenBy(r => r.TransactionKey, StringComparer.Ordinal);

    /// <summary>Each release (oldest first) with what of it <paramref name="paidOutMinor"/>, in all, has settled.</summary>
    public static IReadOnlyList<SettledRelease> Allocate(IEnumerable<ReleaseLine> releases, long paidOutMinor) =>
        Stretch(releases, 0, paidOutMinor);

    /// <summary>The releases a payout settled: those of the stretch [<paramref name="fromMinor"/>, from + amount), each with the part in it.</summary>
    public static IReadOnlyList<SettledRelease> SettledBy(IEnumerable<ReleaseLine> releases, long fromMinor, long amountMinor) =>
        Stretch(releases, fromMinor, amountMinor).Where(s => s.SettledMinor > 0).ToList();

    private static List<SettledRelease> Stretch(IEnumerable<ReleaseLine> releases, long fromMinor, long amountMinor)
    {
        var until = fromMinor + amountMinor;
        var start = 0L;
        var settled = new List<SettledRelease>();
        foreach (var release in Oldest(releases))
        {
            var end = start + release.NetMinor;
            var part = Math.Max(0, Math.Min(end, until) - Math.Max(start, fromMinor));
            settled.Add(new SettledRelease(release, part, end - Math.Clamp(until, start, end)));
            start = end;
        }

        return settled;
    }
}

/// <summary>What one provider earned and was paid in one currency.</summary>
/// <param name="ReleasedMinor">Released from escrow to the provider, in all.</param>
/// <param name="FeesMinor">The platform's fees on those releases.</param>
/// <param name="PaidOutMinor">Paid out, in all.</param>
public sealed record ProviderBalance(string ProviderPubkey, string Currency, long ReleasedMinor, long FeesMinor, long PaidOutMinor)
{
    public long NetReleasedMinor => ReleasedMinor - FeesMinor;

    /// <summary>What the platform owes the provider: the provider's payable account.</summary>
    public long OwedMinor => NetReleasedMinor - PaidOutMinor;
}
