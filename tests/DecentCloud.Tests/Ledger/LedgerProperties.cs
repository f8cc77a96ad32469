using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Ledger;
using DecentCloud.Functions.Ledger.Payouts;
using DecentCloud.Functions.Ledger.Reconciliation;
using DecentCloud.Functions.Ledger.Releases;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DecentCloud.Tests.Ledger;

/// <summary>One step of a random history: pay, release, refund or pay out, on one of four contracts (or its provider and currency).</summary>
public sealed record LedgerStep(int Kind, int Contract, long Amount);

/// <summary>A random history of steps, with the platform's fee.</summary>
public sealed record LedgerHistory(int FeeBps, IReadOnlyList<LedgerStep> Steps)
{
    public const int Pay = 0;
    public const int Release = 1;
    public const int Refund = 2;
    public const int Payout = 3;

    /// <summary>Four contracts: two providers, each with a contract in EUR and one in USD.</summary>
    public static string Provider(int contract) => contract % 2 == 0 ? new string('a', 64) : new string('b', 64);

    public static string Currency(int contract) => contract < 2 ? "EUR" : "USD";

    public override string ToString() => $"fee {FeeBps} bps: " + string.Join(", ", Steps.Select(s => $"{"PRFO"[s.Kind]}{s.Contract}:{s.Amount}"));
}

public static class LedgerHistories
{
    private static Gen<LedgerStep> Steps =>
        from kind in Gen.Frequency((2, Gen.Constant(LedgerHistory.Pay)), (4, Gen.Constant(LedgerHistory.Release)), (2, Gen.Constant(LedgerHistory.Refund)), (3, Gen.Constant(LedgerHistory.Payout)))
        from contract in Gen.Choose(0, 3)
        from amount in Gen.OneOf(Gen.Choose(0, 100), Gen.Choose(0, 5_000), Gen.Choose(0, 2_000_000))
        select new LedgerStep(kind, contract, amount);

    public static Arbitrary<LedgerHistory> Arbitrary() =>
        (from fee in Gen.OneOf(Gen.Constant(0), Gen.Choose(0, 10_000))
         from steps in Gen.ListOf(Steps)
         select new LedgerHistory(fee, steps.ToList())).ToArbitrary();
}

/// <summary>
/// The ledger over 1,000 random histories of payments, releases, refunds and payouts, at the computation level: the
/// postings, the payment rows and payout totals as the app keeps them, the settlement of payouts and the
/// reconciliation's checks, against an independent model that only keeps running totals per account.
/// </summary>
[Properties(Arbitrary = [typeof(LedgerHistories)], MaxTest = 1000)]
public sealed class LedgerProperties
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The model: running totals, by the business rules in plain words.</summary>
    private sealed class Model
    {
        public long[] Paid { get; } = new long[4];
        public long[] Escrow { get; } = new long[4];
        public Dictionary<(string, string), long> Payable { get; } = [];
        public Dictionary<string, long> Received { get; } = [];
        public Dictionary<string, long> Fees { get; } = [];
        public Dictionary<string, long> Refunds { get; } = [];
        public Dictionary<string, long> Losses { get; } = [];
        public Dictionary<string, long> PaidOut { get; } = [];
    }

    private static void Add<T>(Dictionary<T, long> totals, T key, long amount)
        where T : notnull => totals[key] = totals.GetValueOrDefault(key) + amount;

    [Property]
    public void The_ledger_balances_and_matches_an_independent_model_after_any_history(LedgerHistory history)
    {
        var options = new ReleaseOptions { PlatformFeeBps = history.FeeBps };
        var model = new Model();
        var transactions = new List<LedgerTransactionEntity>();
        var payments = new PaymentEntity?[4];
        var paidOut = new Dictionary<(string Provider, string Currency), PayoutBalanceEntity>();
        var payouts = new List<PayoutEntity>();
        for (var i = 0; i < history.Steps.Count; i++)
        {
            var (kind, c, amount) = (history.Steps[i].Kind, history.Steps[i].Contract, history.Steps[i].Amount);
            var (contract, provider, currency, at) = ($"c{c}", LedgerHistory.Provider(c), LedgerHistory.Currency(c), Start.AddHours(i));
            var payment = payments[c];
            switch (kind)
            {
                case LedgerHistory.Pay when payment is null:
                    payments[c] = new PaymentEntity { PartitionKey = contract, SessionId = $"cs_{c}", Status = PaymentStatus.Paid, Currency = currency, AmountTotalMinor = amount, Method = PaymentMethods.Stripe };
                    transactions.Add(LedgerPostings.PaymentReceived(contract, PaymentMethods.Stripe, $"cs_{c}", currency, amount, at));
                    (model.Paid[c], model.Escrow[c]) = (amount, amount);
                    Add(model.Received, currency, amount);
                    break;
                case LedgerHistory.Release when payment is not null:
                {
                    var released = Math.Min(amount, payment.EscrowHeldMinor);
                    if (released == 0)
                    {
                        break;
                    }

                    payment.ReleasedMinor += released;
                    transactions.Add(LedgerPostings.Released(contract, provider, at, currency, released, options.FeeOf(released), at));
                    var fee = released * history.FeeBps / 10_000;
                    model.Escrow[c] -= released;
                    Add(model.Payable, (provider, currency), released - fee);
                    Add(model.Fees, currency, fee);
                    break;
                }

                case LedgerHistory.Refund when payment is not null:
                {
                    var refund = Math.Min(amount, payment.AmountTotalMinor - payment.RefundedMinor);
                    if (refund == 0)
                    {
                        break;
                    }

                    transactions.Add(LedgerPostings.RefundPaid(contract, PaymentMethods.Stripe, $"re_{i}", currency, refund, payment.EscrowHeldMinor, at));
                    payment.RefundedMinor += refund;
                    var fromEscrow = Math.Min(refund, model.Escrow[c]);
                    model.Escrow[c] -= fromEscrow;
                    Add(model.Refunds, currency, refund);
                    Add(model.Losses, currency, refund - fromEscrow);
                    break;
                }

                case LedgerHistory.Payout:
                {
                    var total = paidOut.GetValueOrDefault((provider, currency)) ?? new PayoutBalanceEntity { PartitionKey = provider, Currency = currency };
                    var releases = transactions.Where(t => t.Kind == LedgerKinds.Release && t.ProviderPubkey == provider && t.Currency == currency).Select(ReleaseLine.Of);
                    var statement = Earnings.Statement(provider, currency, releases, total.PaidOutMinor);
                    var owedByModel = model.Payable.GetValueOrDefault((provider, currency)) - model.PaidOut.GetValueOrDefault($"{provider}:{currency}");
                    Assert.Equal(owedByModel, statement.Balance.OwedMinor);
                    if (amount == 0 || amount > statement.Balance.OwedMinor)
                    {
                        break;
                    }

                    var posted = LedgerPostings.PayoutPaid(provider, currency, $"ref-{i}", amount, at);
                    transactions.Add(posted);
                    payouts.Add(new PayoutEntity { PartitionKey = provider, ProviderPubkey = provider, Currency = currency, AmountMinor = amount, SettledFromMinor = total.PaidOutMinor, LedgerKey = posted.IdempotencyKey });
                    total.PaidOutMinor += amount;
                    paidOut[(provider, currency)] = total;
                    Add(model.PaidOut, $"{provider}:{currency}", amount);
                    break;
                }
            }
        }

        // Every transaction balances, and so does each currency's whole ledger.
        Assert.All(transactions, t => Assert.True(LedgerBalances.IsBalanced(t), t.IdempotencyKey));
        var balances = LedgerBalances.Of(transactions);
        foreach (var currency in new[] { "EUR", "USD" })
        {
            Assert.Equal(0, balances.Where(b => b.Key.Currency == currency).Sum(b => b.Value));
            Assert.Equal(model.Received.GetValueOrDefault(currency), balances.Debit(LedgerAccounts.PaymentsReceived, currency));
            Assert.Equal(model.Fees.GetValueOrDefault(currency), balances.Credit(LedgerAccounts.PlatformFees, currency));
            Assert.Equal(model.Refunds.GetValueOrDefault(currency), balances.Credit(LedgerAccounts.RefundsPaid, currency));
            Assert.Equal(model.Losses.GetValueOrDefault(currency), balances.Debit(LedgerAccounts.PlatformLosses, currency));
            Assert.Equal(model.PaidOut.Where(p => p.Key.EndsWith(currency, StringComparison.Ordinal)).Sum(p => p.Value), balances.Credit(LedgerAccounts.PayoutsPaid, currency));
        }

        for (var c = 0; c < 4; c++)
        {
            var escrow = balances.Credit(LedgerAccounts.Escrow($"c{c}"), LedgerHistory.Currency(c));
            Assert.Equal(model.Escrow[c], escrow);
            Assert.True(escrow >= 0);
            Assert.Equal(payments[c]?.EscrowHeldMinor ?? 0, escrow);
        }

        foreach (var ((provider, currency), earned) in model.Payable)
        {
            var payable = balances.Credit(LedgerAccounts.Payable(provider), currency);
            Assert.Equal(earned - model.PaidOut.GetValueOrDefault($"{provider}:{currency}"), payable);
            Assert.True(payable >= 0);

            // Payouts settle the releases oldest first: settled ones, at most one in part, then unsettled ones.
            var releases = transactions.Where(t => t.Kind == LedgerKinds.Release && t.ProviderPubkey == provider && t.Currency == currency).Select(ReleaseLine.Of);
            var settled = PayoutSettlement.Allocate(releases, paidOut.GetValueOrDefault((provider, currency))?.PaidOutMinor ?? 0);
            Assert.Equal(earned - payable, settled.Sum(s => s.SettledMinor));
            Assert.All(settled, s => Assert.Equal(s.Release.NetMinor, s.SettledMinor + s.OutstandingMinor));
            var open = settled.SkipWhile(s => s.OutstandingMinor == 0).Skip(1);
            Assert.All(open, s => Assert.Equal(0, s.SettledMinor));
        }

        // The reconciliation finds nothing to report in a history kept by the rules.
        var checks = new LedgerChecks();
        transactions.ForEach(checks.Add);
        payments.OfType<PaymentEntity>().ToList().ForEach(checks.Add);
        payouts.ForEach(checks.Add);
        paidOut.Values.ToList().ForEach(checks.Add);
        Assert.Empty(checks.Breaks());
    }
}
