using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DecentCloud.Functions.Billing.Icpay;
using DecentCloud.Functions.Billing.Invoices;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Ledger;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Tests.Support;
using UglyToad.PdfPig;

namespace DecentCloud.Tests.Billing;

/// <summary>Billing's world with ICPay switched on (its webhook secret set).</summary>
public sealed class IcpayAppFixture : BillingAppFixture
{
    protected override void Configure(Dictionary<string, string?> settings) => settings["ICPAY_WEBHOOK_SECRET"] = IcpayEvents.Secret;
}

/// <summary>From the ICPay checkout to paid, invoiced and refunded, through the real host, Azurite and the stand-ins.</summary>
public sealed partial class IcpayPaymentTests(IcpayAppFixture billing) : IClassFixture<IcpayAppFixture>, IAsyncLifetime
{
    private readonly TestFunctionApp app = billing.App;
    private Marketplace market = null!;

    public async Task InitializeAsync()
    {
        market = await new Marketplace(app).OpenAsync(monthlyMinor: 1500);
        await market.SaveBillingAsync(legalName: "Beta GmbH", country: "DE");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>A contract and the ICPay checkout's answer for it, as the web client gets it.</summary>
    private async Task<(ContractView Contract, JsonObject Checkout)> CheckedOutAsync()
    {
        var contract = await market.RentAsync();
        using var renter = app.SignedBy(market.Renter);
        var response = await renter.PostAsync($"api/v1/contracts/{contract.Id}/checkout/icpay", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (contract, (await response.Content.ReadFromJsonAsync<JsonObject>())!);
    }

    /// <summary>A payment event as ICPay sends it after the web client passed the checkout's amount, token and metadata to the SDK.</summary>
    private static string EventFor(JsonObject checkout, string paymentId, string type = "payment.completed", string? amount = null, string status = "completed", string? token = null, DateTimeOffset? created = null, string? eventId = null) =>
        IcpayEvents.Payment(type, paymentId, checkout["metadata"]!.AsObject(), amount ?? checkout["amount"]!.GetValue<string>(), status,
            token ?? checkout["symbol"]!.GetValue<string>(), created: created, eventId: eventId);

    private async Task DeliverAsync(string body) =>
        Assert.Equal(HttpStatusCode.OK, (await IcpayEvents.DeliverAsync(app.Client, body)).StatusCode);

    private async Task<InvoiceEntity> InvoicedAsync(string contractId)
    {
        InvoiceEntity? invoice = null;
        await Eventually.HoldsAsync(async () =>
        {
            invoice = (await Marketplace.DocumentsAsync(app, contractId)).FirstOrDefault(d => d.Kind == "Invoice" && d.PdfWrittenAt is not null);
            return invoice is not null;
        }, $"contract {contractId} is invoiced");
        return invoice!;
    }

    private async Task<string> PdfTextAsync(string path)
    {
        using var renter = app.SignedBy(market.Renter);
        var response = await renter.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var pdf = PdfDocument.Open(await response.Content.ReadAsByteArrayAsync());
        return Spaces().Replace(string.Join(" ", pdf.GetPages().Select(p => string.Join(" ", p.GetWords().Select(w => w.Text)))), " ");
    }

    private async Task<ContractEntity> ContractAsync(string id) =>
        (await app.Services.GetRequiredService<ContractStore>().FindAsync(id, CancellationToken.None))!;

    private async Task ProcessedAsync(string eventId) =>
        await Eventually.HoldsAsync(async () => (await app.Services.GetRequiredService<IcpayEventStore>().FindAsync(eventId, CancellationToken.None))?.Status is IcpayEventStatus.Processed or IcpayEventStatus.Ignored, $"ICPay event {eventId} is applied");

    [Fact]
    public async Task The_checkout_asks_for_the_price_plus_vat_in_token_units_with_the_contract_id_under_the_one_metadata_key()
    {
        var (contract, checkout) = await CheckedOutAsync();

        // 15.00 EUR net, 19 % German VAT on top for a consumer in Germany: 17.85 EUR, in EURC's 6 decimals.
        Assert.Equal((1500L, 285L, 1785L), (checkout["netMinor"]!.GetValue<long>(), checkout["vatMinor"]!.GetValue<long>(), checkout["grossMinor"]!.GetValue<long>()));
        Assert.Equal(("17850000", "base_eurc", "EURC", 6, "EUR"), (checkout["amount"]!.GetValue<string>(), checkout["tokenShortcode"]!.GetValue<string>(), checkout["symbol"]!.GetValue<string>(), checkout["decimals"]!.GetValue<int>(), checkout["currency"]!.GetValue<string>()));
        var metadata = checkout["metadata"]!.AsObject();
        Assert.Equal(contract.Id, Assert.Single(metadata).Value!.GetValue<string>());
        Assert.Equal(IcpayMetadata.ContractIdKey, metadata.Single().Key);
    }

    [Fact]
    public async Task A_completed_payment_of_what_the_checkout_asked_pays_the_contract_and_its_invoice_pdf_shows_icpay_its_transaction_and_the_vat()
    {
        var (contract, checkout) = await CheckedOutAsync();
        var paymentId = IcpayEvents.NewPaymentId();

        await DeliverAsync(EventFor(checkout, paymentId));

        var invoice = await InvoicedAsync(contract.Id);
        Assert.Equal((1500L, 285L, 1785L), (invoice.NetMinor, invoice.VatMinor, invoice.GrossMinor));
        var text = await PdfTextAsync($"api/v1/contracts/{contract.Id}/invoice");
        foreach (var expected in new[] { invoice.Number, "ICPay", "EURC", "tx_" + paymentId[4..], "Beta GmbH", "15.00 EUR", "19.00 %", "2.85 EUR", "17.85 EUR", "Paid" })
        {
            Assert.Contains(expected, text, StringComparison.Ordinal);
        }

        var paid = await ContractAsync(contract.Id);
        Assert.True(paid.PaymentSucceeded);
        Assert.Equal(paymentId, paid.PaidSessionId);
        var payment = (await Marketplace.PaymentAsync(app, contract.Id, paymentId))!;
        Assert.Equal((PaymentStatus.Paid, PaymentMethods.Icpay, "17850000", 1785L), (payment.Status, payment.Method, payment.TokenAmount, payment.AmountTotalMinor));
    }

    [Fact]
    public async Task A_completed_payment_posts_one_balanced_payment_on_the_ledger_into_the_contracts_escrow()
    {
        var (contract, checkout) = await CheckedOutAsync();
        var paymentId = IcpayEvents.NewPaymentId();

        await DeliverAsync(EventFor(checkout, paymentId));
        await DeliverAsync(EventFor(checkout, paymentId));

        var rows = app.Services.GetRequiredService<DecentCloud.Functions.Billing.ContractRows>();
        List<LedgerTransactionEntity> ledger = [];
        await Eventually.HoldsAsync(async () =>
        {
            ledger = await rows.ListAsync<LedgerTransactionEntity>(contract.Id, LedgerTransactionEntity.RowKeyPrefix, CancellationToken.None);
            return ledger.Count > 0;
        }, $"contract {contract.Id}'s payment is on the ledger");
        await InvoicedAsync(contract.Id);

        var posted = Assert.Single(ledger);
        Assert.Equal(("payment", $"payment:icpay:{paymentId}", "EUR"), (posted.Kind, posted.IdempotencyKey, posted.Currency));
        Assert.True(LedgerBalances.IsBalanced(posted));
        var balances = LedgerBalances.Of(ledger);
        Assert.Equal(1785L, balances.Debit(LedgerAccounts.PaymentsReceived, "EUR"));
        Assert.Equal(1785L, balances.Credit(LedgerAccounts.Escrow(contract.Id), "EUR"));
    }

    [Fact]
    public async Task Duplicated_and_shuffled_deliveries_of_one_payment_give_one_payment_one_invoice_and_leave_it_paid()
    {
        var (contract, checkout) = await CheckedOutAsync();
        var paymentId = IcpayEvents.NewPaymentId();
        var completed = EventFor(checkout, paymentId, created: DateTimeOffset.UtcNow.AddMinutes(-1));
        var completedAgain = EventFor(checkout, paymentId);
        var failedEarlier = EventFor(checkout, paymentId, type: "payment.failed", status: "failed", created: DateTimeOffset.UtcNow.AddMinutes(-3));
        var created = EventFor(checkout, paymentId, type: "payment.created", status: "pending", created: DateTimeOffset.UtcNow.AddMinutes(-4));
        var deliveries = Enumerable.Repeat(new[] { completed, completedAgain, failedEarlier, created }, 3).SelectMany(x => x).OrderBy(_ => Random.Shared.Next()).ToList();

        await Task.WhenAll(deliveries.Select(DeliverAsync));

        var invoice = await InvoicedAsync(contract.Id);
        foreach (var body in new[] { completed, completedAgain, failedEarlier, created })
        {
            await ProcessedAsync(JsonNode.Parse(body)!["id"]!.GetValue<string>());
        }

        Assert.Equal(invoice.Number, Assert.Single(await Marketplace.DocumentsAsync(app, contract.Id)).Number);
        var payments = await app.Services.GetRequiredService<Functions.Billing.ContractRows>().ListAsync<PaymentEntity>(contract.Id, PaymentEntity.RowKeyPrefix, CancellationToken.None);
        Assert.Equal(PaymentStatus.Paid, Assert.Single(payments).Status);
        Assert.Equal(paymentId, (await ContractAsync(contract.Id)).PaidSessionId);
        Assert.Single(await app.Services.GetRequiredService<InvoiceNumbers>().ListAsync(InvoiceNumbers.InvoicePrefix, invoice.IssuedAt.Year, CancellationToken.None), n => n.ContractId == contract.Id);
    }

    [Fact]
    public async Task A_payment_of_another_amount_token_or_status_is_recorded_as_mismatched_and_does_not_pay_the_contract()
    {
        var (contract, checkout) = await CheckedOutAsync();
        var ids = Enumerable.Range(0, 5).Select(_ => IcpayEvents.NewPaymentId()).ToList();
        string[] bodies =
        [
            EventFor(checkout, ids[0], amount: "17849999"),
            EventFor(checkout, ids[1], status: "mismatched"),
            EventFor(checkout, ids[2], token: "ICP"),
            EventFor(checkout, ids[3], token: "USDC"),
            IcpayEvents.Payment("payment.completed", ids[4], checkout["metadata"]!.AsObject(), "17850000", token: "EURC", requestedAmount: "17850001"),
        ];

        foreach (var body in bodies)
        {
            await DeliverAsync(body);
        }

        foreach (var paymentId in ids)
        {
            await Eventually.HoldsAsync(async () => (await Marketplace.PaymentAsync(app, contract.Id, paymentId))?.Status == PaymentStatus.Mismatched, $"{paymentId} is recorded as mismatched");
        }

        Assert.False((await ContractAsync(contract.Id)).PaymentSucceeded);
        Assert.Empty(await Marketplace.DocumentsAsync(app, contract.Id));
        Assert.Equal(5, app.Logs.Entries.Count(e => e.EventId.Id == 8712 && e.Message.Contains(contract.Id, StringComparison.Ordinal)));
        Assert.All(ids, id => Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 8712 && e.Message.Contains(id, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_payment_whose_metadata_uses_another_key_than_the_checkout_sends_pays_nothing()
    {
        var (contract, checkout) = await CheckedOutAsync();
        var paymentId = IcpayEvents.NewPaymentId();
        var oldKey = IcpayEvents.Payment("payment.completed", paymentId, new JsonObject { ["contract_id"] = contract.Id }, checkout["amount"]!.GetValue<string>());

        await DeliverAsync(oldKey);
        await ProcessedAsync(JsonNode.Parse(oldKey)!["id"]!.GetValue<string>());

        Assert.False((await ContractAsync(contract.Id)).PaymentSucceeded);
        Assert.Null(await Marketplace.PaymentAsync(app, contract.Id, paymentId));
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 8713 && e.Message.Contains(paymentId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_refunded_payment_gets_one_credit_note_for_all_of_it_however_often_the_refund_is_delivered()
    {
        var (contract, checkout) = await CheckedOutAsync();
        var paymentId = IcpayEvents.NewPaymentId();
        await DeliverAsync(EventFor(checkout, paymentId));
        var invoice = await InvoicedAsync(contract.Id);

        var refunded = EventFor(checkout, paymentId, type: "payment.refunded", status: "refunded");
        await DeliverAsync(refunded);
        await DeliverAsync(EventFor(checkout, paymentId, type: "payment.refunded", status: "refunded"));

        InvoiceEntity? note = null;
        await Eventually.HoldsAsync(async () =>
        {
            note = (await Marketplace.DocumentsAsync(app, contract.Id)).FirstOrDefault(d => d.Kind == "CreditNote" && d.PdfWrittenAt is not null);
            return note is not null;
        }, "the refund is credited");
        Assert.Equal((1785L, 285L, invoice.Number), (note!.GrossMinor, note.VatMinor, note.Document().RefersTo));
        Assert.Equal(1785, (await Marketplace.PaymentAsync(app, contract.Id, paymentId))!.RefundedMinor);
        Assert.Equal(2, (await Marketplace.DocumentsAsync(app, contract.Id)).Count);
    }

    [Fact]
    public async Task A_rejected_icpay_paid_contract_owes_its_payment_back_for_an_admin_and_the_refund_timer_never_asks_stripe()
    {
        var (contract, checkout) = await CheckedOutAsync();
        var paymentId = IcpayEvents.NewPaymentId();
        await DeliverAsync(EventFor(checkout, paymentId));
        await InvoicedAsync(contract.Id);
        using var provider = app.SignedBy(market.Provider);
        Assert.Equal(HttpStatusCode.OK, (await provider.PostAsync($"api/v1/contracts/{contract.Id}/reject", null)).StatusCode);

        await app.RunAsync("PayRefunds");
        await Eventually.HoldsAsync(() => app.Logs.Entries.Any(e => e.EventId.Id == 8064), "the refund timer ran");

        var owed = (await Marketplace.RowAsync<Functions.Billing.Refunding.RefundOwedEntity>(app, contract.Id, Functions.Billing.Refunding.RefundOwedEntity.RowKeyFor(paymentId)))!;
        Assert.Equal((1785L, true, "awaiting-approval"), (owed.RefundMinor, owed.AwaitsAdminApproval, owed.Status));
        Assert.DoesNotContain(billing.World.Stripe.Requests, r => r.Path.Contains("refunds", StringComparison.Ordinal));

        // The admin refunds it in ICPay's dashboard; ICPay's event marks the refund done.
        await DeliverAsync(EventFor(checkout, paymentId, type: "payment.refunded", status: "refunded"));
        await Eventually.HoldsAsync(async () => (await Marketplace.RowAsync<Functions.Billing.Refunding.RefundOwedEntity>(app, contract.Id, owed.RowKey))!.RefundedAt is not null, "the refund owed is done");
    }

    [Fact]
    public async Task Only_the_renter_with_billing_settings_gets_an_icpay_checkout()
    {
        var contract = await market.RentAsync();
        using var provider = app.SignedBy(market.Provider);
        await ApiAssert.ProblemAsync(await provider.PostAsync($"api/v1/contracts/{contract.Id}/checkout/icpay", null), HttpStatusCode.Forbidden);

        var other = await new Marketplace(app).OpenAsync();
        var unbilled = await other.RentAsync();
        using var renter = app.SignedBy(other.Renter);
        await ApiAssert.ProblemAsync(await renter.PostAsync($"api/v1/contracts/{unbilled.Id}/checkout/icpay", null), HttpStatusCode.Conflict);
        await ApiAssert.ProblemAsync(await renter.PostAsync("api/v1/contracts/nosuchcontract/checkout/icpay", null), HttpStatusCode.NotFound);
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
