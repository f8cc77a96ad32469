using System.Net;
using System.Net.Http.Json;
using Azure.Data.Tables;
using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Ledger;
using DecentCloud.Functions.Ledger.Payouts;
using DecentCloud.Functions.Ledger.Reconciliation;
using DecentCloud.Functions.Ledger.Releases;
using DecentCloud.Tests.Billing;
using DecentCloud.Tests.Support;
using Microsoft.Azure.Functions.Worker;

namespace DecentCloud.Tests.Ledger;

/// <summary>
/// The nightly reconciliation over a ledger made through the app (Stripe payments with VAT, releases, a cancellation
/// refunded through Stripe, a payout): clean, it reports no break; a break planted in storage is found, reported at
/// the admin endpoint and logged, one Error line per break.
/// </summary>
public sealed class ReconciliationTests(LedgerAppFixture fixture) : IClassFixture<LedgerAppFixture>
{
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    private readonly TestFunctionApp app = fixture.App;
    private readonly LedgerWorld world = new(fixture.App, fixture.World);

    private LedgerReconciliation Reconciliation => app.Services.GetRequiredService<LedgerReconciliation>();

    private TableClient Contracts => world.Rows.Table;

    private async Task ReleaseAsync(string contractId, DateTimeOffset periodEnd) =>
        await app.Services.GetRequiredService<PaymentReleases>().ReleaseAsync(await world.Store.FindAsync(contractId, CancellationToken.None), periodEnd, CancellationToken.None);

    private async Task<ReconciliationReport> ReportAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/admin/ledger/reconciliation");
        request.Headers.Add("x-functions-key", TestKeys.Master);
        var response = await app.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ReconciliationReport>())!;
    }

    /// <summary>Two contracts of one provider: one released for three days and paid out in part, one cancelled on day 2 and refunded.</summary>
    private async Task<(LedgerWorld.Paid Kept, LedgerWorld.Paid Cancelled)> LedgerAsync()
    {
        var kept = await world.PaidAsync();
        var cancelled = await world.PaidAsync(kept.Market);
        var start = LedgerWorld.Midnight - 5 * Day;
        await world.InServiceAsync(kept.ContractId, start);
        await world.InServiceAsync(cancelled.ContractId, start);
        for (var day = 1; day <= 3; day++)
        {
            await ReleaseAsync(kept.ContractId, start + day * Day);
        }

        await ReleaseAsync(cancelled.ContractId, start + Day);
        using (var renter = app.SignedBy(cancelled.Market.Renter))
        {
            Assert.Equal(HttpStatusCode.OK, (await renter.PostAsync($"api/v1/contracts/{cancelled.ContractId}/cancel", null)).StatusCode);
        }

        await ReleaseAsync(cancelled.ContractId, LedgerWorld.Midnight + Day);
        await ActivatorUtilities.CreateInstance<PayRefunds>(app.Services).Run(new TimerInfo(), CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, StripeEvents.Event("charge.refunded", fixture.World.Stripe.RefundedCharge(cancelled.Intent)))).StatusCode);
        await Eventually.HoldsAsync(async () => (await world.TransactionsAsync(cancelled.ContractId)).Any(t => t.Kind == LedgerKinds.Refund), "the refund is posted");

        var payout = await app.Services.GetRequiredService<PayoutRecorder>().RecordAsync(
            new PayoutRequest(kept.ProviderKey, "EUR", 100, PayoutMethods.BankTransfer, $"REC-{kept.ContractId}"), "test", CancellationToken.None);
        Assert.Equal(PayoutOutcome.Recorded, payout.Outcome);
        return (kept, cancelled);
    }

    private async Task<ReconciliationReport> ReconcileAsync(int breaks)
    {
        var report = await Reconciliation.RunAsync(CancellationToken.None);
        Assert.True(report.BreakCount == breaks, $"{breaks} breaks expected: {string.Join("; ", report.Breaks)}");
        Assert.Equal(report.BreakCount, (await ReportAsync()).BreakCount);
        return report;
    }

    [Fact]
    public async Task A_clean_ledger_reports_no_break_and_breaks_planted_in_its_rows_are_found_reported_and_logged()
    {
        var (kept, cancelled) = await LedgerAsync();
        var clean = await ReconcileAsync(breaks: 0);
        Assert.True(clean.Transactions >= 9, $"{clean.Transactions} transactions");
        Assert.Equal(2, clean.Payments);
        Assert.Equal(1, clean.Payouts);

        // An entry's amount changed in storage: the release no longer balances, and its contract's released and escrow
        // totals no longer agree with the payment row.
        var release = (await world.ReleasesAsync(kept.ContractId))[0];
        var original = release.Entries;
        release.WriteEntries(release.ReadEntries().Select(e => e.Account.StartsWith(LedgerAccounts.EscrowPrefix, StringComparison.Ordinal) ? e with { AmountMinor = e.AmountMinor + 1 } : e).ToList());
        await Contracts.UpdateEntityAsync(release, release.ETag, TableUpdateMode.Replace);
        var report = await ReconcileAsync(breaks: 3);
        Assert.Contains(report.Breaks, b => b.Check == "unbalanced" && b.Subject == $"{release.PartitionKey}/{release.RowKey}");
        Assert.Contains(report.Breaks, b => b.Check == "released-differs" && b.Subject == kept.ContractId);
        Assert.Contains(report.Breaks, b => b.Check == "escrow-differs" && b.Subject == kept.ContractId);
        var logged = app.Logs.Entries.Where(e => e.EventId.Id == 8920 && e.Level == LogLevel.Error && e.Message.Contains(kept.ContractId, StringComparison.Ordinal)).ToList();
        Assert.True(logged.Count >= 3, string.Join("\n", logged.Select(l => l.Message)));
        release = (await world.Rows.FindAsync<LedgerTransactionEntity>(kept.ContractId, release.RowKey, CancellationToken.None))!;
        release.Entries = original;
        await Contracts.UpdateEntityAsync(release, release.ETag, TableUpdateMode.Replace);
        await ReconcileAsync(breaks: 0);

        // A payment's posting deleted: the paid payment row has no transaction, and the contract's escrow is short.
        var posting = Assert.Single(await world.TransactionsAsync(cancelled.ContractId), t => t.Kind == LedgerKinds.Payment);
        await Contracts.DeleteEntityAsync(posting.PartitionKey, posting.RowKey);
        report = await ReconcileAsync(breaks: 3);
        Assert.Contains(report.Breaks, b => b.Check == "payment-not-posted" && b.Subject == posting.IdempotencyKey);
        Assert.Contains(report.Breaks, b => b.Check == "escrow-negative" && b.Subject == cancelled.ContractId);
        Assert.Contains(report.Breaks, b => b.Check == "escrow-differs" && b.Subject == cancelled.ContractId);
        await Contracts.AddEntityAsync(posting);
        await ReconcileAsync(breaks: 0);

        // A payout total edited: it no longer agrees with the payouts on the ledger.
        var total = (await app.Services.GetRequiredService<LedgerStore>().FindAsync<PayoutBalanceEntity>(kept.ProviderKey, PayoutBalanceEntity.RowKeyFor("EUR"), CancellationToken.None))!;
        total.PaidOutMinor -= 1;
        await app.Services.GetRequiredService<LedgerStore>().Table.UpdateEntityAsync(total, total.ETag, TableUpdateMode.Replace);
        report = await ReconcileAsync(breaks: 1);
        Assert.Equal(("payouts-differ", kept.ProviderKey), (report.Breaks[0].Check, report.Breaks[0].Subject));
        total.PaidOutMinor += 1;
        await app.Services.GetRequiredService<LedgerStore>().UpsertAsync(total, CancellationToken.None);
        await ReconcileAsync(breaks: 0);
    }

    [Fact]
    public async Task The_ledger_csv_has_one_line_per_entry_in_the_range_quoted_as_rfc_4180()
    {
        var paid = await world.PaidAsync();
        var start = LedgerWorld.Midnight - 3 * Day;
        await world.InServiceAsync(paid.ContractId, start);
        await ReleaseAsync(paid.ContractId, start + Day);
        var reference = $"Wire \"7\", batch {paid.ContractId}";
        Assert.Equal(PayoutOutcome.Recorded, (await app.Services.GetRequiredService<PayoutRecorder>().RecordAsync(
            new PayoutRequest(paid.ProviderKey, "EUR", 10, PayoutMethods.BankTransfer, reference), "test", CancellationToken.None)).Outcome);

        var from = LedgerWorld.Midnight - 30 * Day;
        var to = LedgerWorld.Midnight + 2 * Day;
        var response = await Admin($"api/v1/admin/ledger.csv?from={from:yyyy-MM-dd}&to={to:yyyy-MM-dd}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.EndsWith("\r\n", text, StringComparison.Ordinal);
        var lines = Csv(text);
        Assert.Equal(["transaction_key", "kind", "occurred_at", "contract_id", "provider_pubkey", "account", "currency", "amount_minor", "reference"], lines[0]);

        // Every entry of the range once: the contract's payment and release, and the payout with its reference intact.
        var contractLines = lines.Where(l => l[3] == paid.ContractId).ToList();
        Assert.Contains(["payment", LedgerAccounts.PaymentsReceived, "EUR", $"{LedgerWorld.Gross}"], contractLines.Select(l => new[] { l[1], l[5], l[6], l[7] }));
        Assert.Contains(["payment", LedgerAccounts.Escrow(paid.ContractId), "EUR", $"{-LedgerWorld.Gross}"], contractLines.Select(l => new[] { l[1], l[5], l[6], l[7] }));
        Assert.Equal(2, contractLines.Count(l => l[1] == "release"));
        var payoutLines = lines.Where(l => l[8] == reference).ToList();
        Assert.Equal([LedgerAccounts.PayoutsPaid, LedgerAccounts.Payable(paid.ProviderKey)], payoutLines.Select(l => l[5]).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(0, lines.Skip(1).Sum(l => long.Parse(l[7], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Contains("\"Wire \"\"7\"\", batch ", text, StringComparison.Ordinal);

        // The release happened on day 1, before a range that starts after it.
        var later = Csv(await (await Admin($"api/v1/admin/ledger.csv?from={(start + 2 * Day):yyyy-MM-ddTHH:mm:ssZ}&to={to:yyyy-MM-dd}")).Content.ReadAsStringAsync());
        Assert.DoesNotContain(later, l => l[3] == paid.ContractId && l[1] == "release");
        Assert.Single(Csv(await (await Admin("api/v1/admin/ledger.csv?from=2000-01-01&to=2000-01-02")).Content.ReadAsStringAsync()));

        foreach (var bad in new[] { "", "?from=2026-01-01", "?to=2026-01-01", "?from=yesterday&to=2026-01-01", "?from=2026-02-01&to=2026-01-01", "?from=2026-13-01&to=2027-01-01", "?from=2026-01-01T00:00:00&to=2027-01-01" })
        {
            await ApiAssert.ProblemAsync(await Admin($"api/v1/admin/ledger.csv{bad}"), HttpStatusCode.BadRequest);
        }
    }

    private async Task<HttpResponseMessage> Admin(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("x-functions-key", TestKeys.Master);
        return await app.Client.SendAsync(request);
    }

    /// <summary>An RFC 4180 reader: quoted fields with doubled quotes, CRLF between records.</summary>
    private static List<string[]> Csv(string text)
    {
        var records = new List<string[]>();
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var ch = text[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (ch == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(ch);
                }
            }
            else if (ch == '"')
            {
                quoted = true;
            }
            else if (ch == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else if (ch == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                fields.Add(field.ToString());
                field.Clear();
                records.Add([.. fields]);
                fields.Clear();
                i++;
            }
            else
            {
                field.Append(ch);
            }
        }

        return records;
    }
}
