namespace DecentCloud.Functions.Ledger.Payouts;

/// <summary>A recorded payout.</summary>
/// <param name="SettledFromMinor">What had been paid out to the provider in the currency before it: it settled the released money from there.</param>
public sealed record PayoutView(
    string ProviderPubkey, string Currency, long AmountMinor, string Method, string TransferReference, DateTimeOffset RecordedAt, string RecordedBy, long SettledFromMinor, string LedgerKey)
{
    public static PayoutView Of(PayoutEntity payout) => new(
        payout.ProviderPubkey, payout.Currency, payout.AmountMinor, payout.Method, payout.TransferReference, payout.RecordedAt, payout.RecordedBy, payout.SettledFromMinor, payout.LedgerKey);
}

/// <summary>A release of a contract's escrow to its provider, and what payouts settled of it.</summary>
/// <param name="NetMinor">What it added to the provider's payable: released less the fee.</param>
/// <param name="SettledMinor">What payouts settled of the net amount (for a payout's answer: what that payout settled of it).</param>
public sealed record ReleaseView(string TransactionKey, string ContractId, DateTimeOffset PeriodEnd, long AmountMinor, long FeeMinor, long NetMinor, long SettledMinor, long OutstandingMinor)
{
    public static ReleaseView Of(SettledRelease settled) => new(
        settled.Release.TransactionKey, settled.Release.ContractId, settled.Release.PeriodEnd, settled.Release.AmountMinor, settled.Release.FeeMinor,
        settled.Release.NetMinor, settled.SettledMinor, settled.OutstandingMinor);
}

/// <summary>The answer to recording a payout: the payout, the releases it settled (oldest first), and what is still owed.</summary>
public sealed record PayoutReceipt(PayoutView Payout, IReadOnlyList<ReleaseView> SettledReleases, long OwedMinor);

/// <summary>One provider's balance in one currency.</summary>
/// <param name="OwedMinor">Released less fees less paid out: the provider's payable.</param>
public sealed record BalanceView(string ProviderPubkey, string Currency, long ReleasedMinor, long FeesMinor, long NetReleasedMinor, long PaidOutMinor, long OwedMinor)
{
    public static BalanceView Of(ProviderBalance balance) => new(
        balance.ProviderPubkey, balance.Currency, balance.ReleasedMinor, balance.FeesMinor, balance.NetReleasedMinor, balance.PaidOutMinor, balance.OwedMinor);
}

/// <summary>What is owed to one provider in one currency, with the releases not yet settled behind it (oldest first).</summary>
public sealed record OwedView(BalanceView Balance, int Releases, int OutstandingReleases, IReadOnlyList<ReleaseView> Outstanding);

/// <summary>A provider's own earnings: its balances, its releases and payouts (newest first).</summary>
public sealed record EarningsView(string ProviderPubkey, IReadOnlyList<BalanceView> Balances, int Releases, IReadOnlyList<ReleaseView> RecentReleases, IReadOnlyList<PayoutView> Payouts);

/// <summary>A page of payouts, and where the next one starts (null on the last).</summary>
public sealed record PayoutPage(IReadOnlyList<PayoutView> Payouts, string? Continuation);
