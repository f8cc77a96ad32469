using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using DecentCloud.Functions.Billing.Checkout;
using DecentCloud.Functions.Billing.Invoices;
using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Billing.Vat;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Tests.Support;
using UglyToad.PdfPig;

namespace DecentCloud.Tests.Billing;

/// <summary>From Checkout to paid, invoiced, emailed and refunded, through the real host, Azurite and the stand-ins.</summary>
public sealed partial class PaymentFlowTests(BillingAppFixture billing) : IClassFixture<BillingAppFixture>, IAsyncLifetime
{
    private readonly BillingWorld world = billing.World;
    private readonly TestFunctionApp app = billing.App;
    private Marketplace market = null!;

    public async Task InitializeAsync()
    {
        market = await new Marketplace(app).OpenAsync(monthlyMinor: 1500);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<(ContractView Contract, CheckoutView Checkout)> CheckedOutAsync()
    {
        var contract = await market.RentAsync();
        var checkout = (await (await market.CheckoutAsync(contract.Id)).Content.ReadFromJsonAsync<CheckoutView>())!;
        return (contract, checkout);
    }

    private async Task DeliverAsync(string body, TestFunctionApp? to = null) =>
        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync((to ?? app).Client, body)).StatusCode);

    private async Task<InvoiceEntity> InvoicedAsync(string contractId, TestFunctionApp? on = null)
    {
        InvoiceEntity? invoice = null;
        await Eventually.HoldsAsync(async () =>
        {
            invoice = (await Marketplace.DocumentsAsync(on ?? app, contractId)).FirstOrDefault(d => d.Kind == "Invoice" && d.PdfWrittenAt is not null);
            return invoice is not null;
        }, $"contract {contractId} is invoiced");
        return invoice!;
    }

    private async Task<string> InvoiceTextAsync(string contractId, HttpClient? client = null, bool asAdmin = false)
    {
        using var signed = app.SignedBy(market.Renter);
        var response = await (client ?? signed).GetAsync(asAdmin ? $"api/v1/admin/contracts/{contractId}/invoice" : $"api/v1/contracts/{contractId}/invoice");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/pdf", response.Content.Headers.ContentType?.MediaType);
        using var pdf = PdfDocument.Open(await response.Content.ReadAsByteArrayAsync());
        return Spaces().Replace(string.Join(" ", pdf.GetPages().Select(p => string.Join(" ", p.GetWords().Select(w => w.Text)))), " ");
    }

    private static string Normalized(string text) => Spaces().Replace(text, " ");

    [Fact]
    public async Task A_paid_session_gives_one_invoice_whose_pdf_shows_seller_buyer_vat_and_amounts_and_one_receipt_with_it()
    {
        var (contract, checkout) = await CheckedOutAsync();

        await DeliverAsync(StripeEvents.Event("checkout.session.completed", world.Stripe.CompletedSession(checkout.SessionId, taxMinor: 285, vatId: "DE123456789")));

        var invoice = await InvoicedAsync(contract.Id);
        Assert.Matches(@"^INV-\d{4}-\d{6}$", invoice.Number);
        Assert.Equal((1500, 285, 1785), (invoice.NetMinor, invoice.VatMinor, invoice.GrossMinor));
        Assert.Equal("stripe-tax", invoice.VatSource);
        var text = await InvoiceTextAsync(contract.Id);
        foreach (var expected in new[] { invoice.Number, BillingWorld.SellerName, "Chausseestraße 10", "10115 Berlin", BillingWorld.SellerVatId, "Beta GmbH", "Invalidenstraße 116", "DE123456789", "19.00 %", "15.00 EUR", "2.85 EUR", "17.85 EUR", "Paid", "Small VM" })
        {
            Assert.Contains(expected, text, StringComparison.Ordinal);
        }

        await Eventually.HoldsAsync(() => world.SendGrid.Sent.Any(m => m.Subject?.Contains(invoice.Number, StringComparison.Ordinal) == true), "the receipt is sent");
        var receipt = Assert.Single(world.SendGrid.Sent, m => m.Subject?.Contains(invoice.Number, StringComparison.Ordinal) == true);
        Assert.Equal("billing@beta.example", Assert.Single(receipt.To).Email);
        var attachment = Assert.Single(receipt.Attachments);
        Assert.Equal($"{invoice.Number}.pdf", attachment.FileName);
        using var attached = PdfDocument.Open(attachment.Content);
        Assert.Contains(invoice.Number, attached.GetPage(1).Text, StringComparison.Ordinal);

        var paid = (await app.Services.GetRequiredService<ContractStore>().FindAsync(contract.Id, CancellationToken.None))!;
        Assert.True(paid.PaymentSucceeded);
        Assert.Equal(checkout.SessionId, paid.PaidSessionId);
        Assert.Equal(CheckoutStatus.Complete, (await Marketplace.RowAsync<CheckoutEntity>(app, contract.Id, CheckoutEntity.CheckoutRowKey))!.Status);
    }

    [Fact]
    public async Task The_same_events_delivered_three_times_in_shuffled_order_to_two_instances_yield_one_payment_one_invoice_one_email()
    {
        await using var second = await TestFunctionApp.StartAsync(billing.ConnectionString, settings: world.Settings());
        var (contract, checkout) = await CheckedOutAsync();
        var pending = StripeEvents.Event("checkout.session.completed", world.Stripe.CompletedSession(checkout.SessionId, 285, paymentStatus: "unpaid"), created: DateTimeOffset.UtcNow.AddMinutes(-3));
        var succeeded = StripeEvents.Event("checkout.session.async_payment_succeeded", world.Stripe.CompletedSession(checkout.SessionId, 285), created: DateTimeOffset.UtcNow.AddMinutes(-1));
        var unrelated = StripeEvents.Event("payment_intent.succeeded", StripeStandIn.Fixtures()["payment_intent"]!.AsObject());
        var deliveries = Enumerable.Repeat(new[] { pending, succeeded, unrelated }, 3).SelectMany(x => x).ToList();
        var shuffled = deliveries.OrderBy(_ => Random.Shared.Next()).ToList();

        await Task.WhenAll(shuffled.Select((body, i) => DeliverAsync(body, i % 2 == 0 ? app : second)));

        var invoice = await InvoicedAsync(contract.Id);
        await Eventually.HoldsAsync(() => world.SendGrid.Sent.Any(m => m.Subject?.Contains(invoice.Number, StringComparison.Ordinal) == true), "the receipt is sent");
        // Sent is marked by the one delivery holding the claim to send: from then on every copy of the work finds it sent.
        await Eventually.HoldsAsync(async () => (await Marketplace.DocumentsAsync(app, contract.Id)).Single().ReceiptSentAt is not null, "the receipt is marked sent");
        Assert.Single(await Marketplace.DocumentsAsync(app, contract.Id));
        Assert.Single(world.SendGrid.Sent, m => m.Subject?.Contains(invoice.Number, StringComparison.Ordinal) == true);
        var payment = (await Marketplace.PaymentAsync(app, contract.Id, checkout.SessionId))!;
        Assert.Equal("paid", payment.Status);
        Assert.Single(await app.Services.GetRequiredService<InvoiceNumbers>().ListAsync(InvoiceNumbers.InvoicePrefix, invoice.IssuedAt.Year, CancellationToken.None), n => n.ContractId == contract.Id);
    }

    [Fact]
    public async Task A_late_expired_or_failed_event_does_not_undo_a_payment()
    {
        var (contract, checkout) = await CheckedOutAsync();
        await DeliverAsync(StripeEvents.Event("checkout.session.completed", world.Stripe.CompletedSession(checkout.SessionId, 285)));
        await InvoicedAsync(contract.Id);

        var expired = world.Stripe.CompletedSession(checkout.SessionId, 285, paymentStatus: "unpaid");
        expired["status"] = "expired";
        await DeliverAsync(StripeEvents.Event("checkout.session.expired", expired, created: DateTimeOffset.UtcNow.AddHours(-2)));
        await DeliverAsync(StripeEvents.Event("checkout.session.async_payment_failed", expired, created: DateTimeOffset.UtcNow.AddHours(-1)));
        await Eventually.HoldsAsync(() => app.Logs.Entries.Count(e => e.EventId.Id == 8012 && e.Message.Contains("already paid", StringComparison.Ordinal)) >= 2, "both late events were seen");

        Assert.Equal("paid", (await Marketplace.PaymentAsync(app, contract.Id, checkout.SessionId))!.Status);
        Assert.True((await app.Services.GetRequiredService<ContractStore>().FindAsync(contract.Id, CancellationToken.None))!.PaymentSucceeded);
    }

    [Fact]
    public async Task Only_the_renter_the_provider_or_an_admin_may_read_the_invoice()
    {
        var (contract, checkout) = await CheckedOutAsync();
        await DeliverAsync(StripeEvents.Event("checkout.session.completed", world.Stripe.CompletedSession(checkout.SessionId, 285)));
        var invoice = await InvoicedAsync(contract.Id);

        using var provider = app.SignedBy(market.Provider);
        using var stranger = app.SignedBy(Shared.Signing.Ed25519phKey.Generate());
        using var admin = new HttpClient { BaseAddress = app.Client.BaseAddress };
        admin.DefaultRequestHeaders.Add("x-functions-key", TestKeys.Master);
        using var wrongKey = new HttpClient { BaseAddress = app.Client.BaseAddress };
        wrongKey.DefaultRequestHeaders.Add("x-functions-key", TestKeys.Host);

        Assert.Contains(invoice.Number, await InvoiceTextAsync(contract.Id, provider), StringComparison.Ordinal);
        Assert.Contains(invoice.Number, await InvoiceTextAsync(contract.Id, admin, asAdmin: true), StringComparison.Ordinal);
        await ApiAssert.ProblemAsync(await stranger.GetAsync($"api/v1/contracts/{contract.Id}/invoice"), HttpStatusCode.Forbidden);
        await ApiAssert.ProblemAsync(await app.Client.GetAsync($"api/v1/contracts/{contract.Id}/invoice"), HttpStatusCode.Unauthorized);
        // The master key does not stand in for a signature on the parties' route, and a host key opens no admin route.
        await ApiAssert.ProblemAsync(await admin.GetAsync($"api/v1/contracts/{contract.Id}/invoice"), HttpStatusCode.Unauthorized);
        await ApiAssert.ProblemAsync(await wrongKey.GetAsync($"api/v1/admin/contracts/{contract.Id}/invoice/metadata"), HttpStatusCode.Unauthorized);
        var asAdmin = (await admin.GetFromJsonAsync<ContractInvoicesView>($"api/v1/admin/contracts/{contract.Id}/invoice/metadata"))!;
        Assert.Equal(invoice.Number, asAdmin.Invoice.Number);

        var metadata = (await provider.GetFromJsonAsync<ContractInvoicesView>($"api/v1/contracts/{contract.Id}/invoice/metadata"))!;
        Assert.Equal(invoice.Number, metadata.Invoice.Number);
        Assert.Equal(19m, metadata.Invoice.VatRatePercent);
        Assert.Equal(285, metadata.Invoice.VatMinor);
        Assert.Equal(BillingWorld.SellerName, metadata.Invoice.Seller.Name);
        // The address the PDF prints as "Chausseestraße 10" and "10115 Berlin", split the same way.
        Assert.Equal(("Chausseestraße 10", "10115", "Berlin"), (metadata.Invoice.Seller.Line1, metadata.Invoice.Seller.PostalCode, metadata.Invoice.Seller.City));
        Assert.Equal($"/api/v1/contracts/{contract.Id}/invoice", metadata.Invoice.Href);
        Assert.Empty(metadata.CreditNotes);
    }

    [Fact]
    public async Task Before_payment_there_is_no_invoice_to_read()
    {
        var (contract, _) = await CheckedOutAsync();
        using var renter = app.SignedBy(market.Renter);

        var problem = await ApiAssert.ProblemAsync(await renter.GetAsync($"api/v1/contracts/{contract.Id}/invoice"), HttpStatusCode.NotFound);

        Assert.Equal("No invoice yet", problem.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Stripe_Taxs_reverse_charge_is_read_from_the_session_breakdown_the_event_leaves_out()
    {
        var (contract, checkout) = await CheckedOutAsync();
        // Stripe Tax decided reverse charge; the VAT ID is one VIES does not know, so only Stripe's breakdown says so.
        var session = world.Stripe.CompletedSession(checkout.SessionId, taxMinor: 0, ratePercent: 0m, country: "FR", vatId: "FR99999999999", taxabilityReason: "reverse_charge");
        Assert.Null(session["total_details"]!["breakdown"]);

        await DeliverAsync(StripeEvents.Event("checkout.session.completed", session));

        var invoice = await InvoicedAsync(contract.Id);
        Assert.Equal(nameof(VatTreatment.ReverseCharge), invoice.Treatment);
        Assert.Equal("stripe-tax", invoice.VatSource);
        var read = Assert.Single(world.Stripe.Requests, r => r.Method == "GET" && r.Path == $"/v1/checkout/sessions/{checkout.SessionId}");
        Assert.Equal($"Bearer {StripeStandIn.ApiKey}", read.Authorization);
        Assert.Contains(Normalized(VatNotes.ReverseCharge), await InvoiceTextAsync(contract.Id), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_Stripe_Tax_a_business_buyer_in_another_member_state_with_a_valid_vat_id_gets_a_reverse_charge_invoice()
    {
        world.Vies.AddValid("FR", "40303265045", "SA ODIGEO FRANCE", "1 RUE DE RIVOLI 75001 PARIS");
        var (contract, checkout) = await CheckedOutAsync();

        await DeliverAsync(StripeEvents.Event("checkout.session.completed", world.Stripe.CompletedSession(checkout.SessionId, taxMinor: null, country: "FR", vatId: "FR40303265045")));

        var invoice = await InvoicedAsync(contract.Id);
        Assert.Equal(nameof(VatTreatment.ReverseCharge), invoice.Treatment);
        Assert.Equal("Valid", invoice.BuyerVatIdStatus);
        Assert.Equal((1500, 0, 1500), (invoice.NetMinor, invoice.VatMinor, invoice.GrossMinor));
        var text = await InvoiceTextAsync(contract.Id);
        Assert.Contains(Normalized(VatNotes.ReverseCharge), text, StringComparison.Ordinal);
        Assert.Contains("FR40303265045", text, StringComparison.Ordinal);
        Assert.Contains("0.00 %", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_Stripe_Tax_a_consumer_in_France_pays_French_vat_inside_the_amount_charged()
    {
        var (contract, checkout) = await CheckedOutAsync();

        await DeliverAsync(StripeEvents.Event("checkout.session.completed", world.Stripe.CompletedSession(checkout.SessionId, taxMinor: null, country: "FR", businessName: null)));

        var invoice = await InvoicedAsync(contract.Id);
        // 1500 charged with 20 % inside: VAT 250, net 1250; the invoice never shows more than was charged.
        Assert.Equal((1250, 250, 1500), (invoice.NetMinor, invoice.VatMinor, invoice.GrossMinor));
        Assert.StartsWith("rate-table:", invoice.VatSource, StringComparison.Ordinal);
        Assert.Contains("20.00 %", await InvoiceTextAsync(contract.Id), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_seller_without_a_vat_id_issues_an_invoice_with_no_vat_and_says_vat_is_not_applicable()
    {
        // Its own storage: the class's app (a seller with a VAT ID) must not be the one that takes the work.
        await using var own = await DecentCloud.Testing.Azurite.StartAsync();
        await using var small = await TestFunctionApp.StartAsync(own.ConnectionString, settings: world.Settings(sellerVatId: false));
        var contract = await Marketplace.ContractRowAsync(small, new string('c', 64), market.Provider.PublicKeyHex, market.OfferingId, 1500);

        await DeliverAsync(StripeEvents.Event("checkout.session.completed", Marketplace.SessionFor(contract, taxMinor: null, country: "DE")), small);

        var invoice = await InvoicedAsync(contract.PartitionKey, small);
        Assert.Equal(nameof(VatTreatment.NotApplicable), invoice.Treatment);
        Assert.Equal((1500, 0, 1500), (invoice.NetMinor, invoice.VatMinor, invoice.GrossMinor));
        using var pdf = PdfDocument.Open(await small.Services.GetRequiredService<InvoiceBlobs>().ReadAsync(invoice.BlobName, CancellationToken.None));
        var text = Normalized(string.Join(" ", pdf.GetPage(1).GetWords().Select(w => w.Text)));
        Assert.Contains(Normalized(VatNotes.NotApplicable), text, StringComparison.Ordinal);
        Assert.DoesNotContain(BillingWorld.SellerVatId, text, StringComparison.Ordinal);
        Assert.Contains("0.00 %", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refund_gives_a_credit_note_referring_to_the_invoice_and_two_partial_refunds_in_reverse_order_sum_right()
    {
        var (contract, checkout) = await CheckedOutAsync();
        var session = world.Stripe.CompletedSession(checkout.SessionId, taxMinor: 285);
        await DeliverAsync(StripeEvents.Event("checkout.session.completed", session));
        var invoice = await InvoicedAsync(contract.Id);
        var intent = session["payment_intent"]!.GetValue<string>();

        // Stripe refunded 500, then 1785 in all; the events arrive the other way round, the later one processed first.
        await DeliverAsync(StripeEvents.Event("charge.refunded", StripeEvents.RefundedCharge(intent, 1785, 1785)));
        await Eventually.HoldsAsync(async () => (await Marketplace.DocumentsAsync(app, contract.Id)).Any(d => d.Kind == "CreditNote" && d.PdfWrittenAt is not null), "the credit note is issued");
        await DeliverAsync(StripeEvents.Event("charge.refunded", StripeEvents.RefundedCharge(intent, 1785, 500)));

        await Eventually.HoldsAsync(() => app.Logs.Entries.Any(e => e.EventId.Id == 8012 && e.Message.Contains("already credited", StringComparison.Ordinal)), "the late smaller refund was seen");
        var notes = (await Marketplace.DocumentsAsync(app, contract.Id)).Where(d => d.Kind == "CreditNote").ToList();
        var only = Assert.Single(notes);
        Assert.Matches(@"^CN-\d{4}-\d{6}$", only.Number);
        Assert.Equal((1500, 285, 1785), (only.NetMinor, only.VatMinor, only.GrossMinor));
        Assert.Equal(invoice.Number, only.Document().RefersTo);

        using var renter = app.SignedBy(market.Renter);
        var metadata = (await renter.GetFromJsonAsync<ContractInvoicesView>($"api/v1/contracts/{contract.Id}/invoice/metadata"))!;
        Assert.Equal(only.Number, Assert.Single(metadata.CreditNotes).Number);
        using var pdf = PdfDocument.Open(await app.Services.GetRequiredService<InvoiceBlobs>().ReadAsync(only.BlobName, CancellationToken.None));
        var text = pdf.GetPage(1).Text;
        Assert.Contains(only.Number, text, StringComparison.Ordinal);
        Assert.Contains(invoice.Number, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Partial_refunds_in_order_give_one_credit_note_each_whose_vat_sums_to_the_invoice()
    {
        var (contract, checkout) = await CheckedOutAsync();
        var session = world.Stripe.CompletedSession(checkout.SessionId, taxMinor: 285);
        await DeliverAsync(StripeEvents.Event("checkout.session.completed", session));
        await InvoicedAsync(contract.Id);
        var intent = session["payment_intent"]!.GetValue<string>();

        foreach (var cumulative in new long[] { 333, 1000, 1785 })
        {
            await DeliverAsync(StripeEvents.Event("charge.refunded", StripeEvents.RefundedCharge(intent, 1785, cumulative)));
            await Eventually.HoldsAsync(async () => (await Marketplace.DocumentsAsync(app, contract.Id)).Count(d => d.Kind == "CreditNote" && d.PdfWrittenAt is not null) == Array.IndexOf(new long[] { 333, 1000, 1785 }, cumulative) + 1, $"the note up to {cumulative} is issued");
        }

        var notes = (await Marketplace.DocumentsAsync(app, contract.Id)).Where(d => d.Kind == "CreditNote").ToList();
        Assert.Equal([333L, 667L, 785L], notes.OrderBy(n => n.Number, StringComparer.Ordinal).Select(n => n.GrossMinor));
        Assert.Equal(285, notes.Sum(n => n.VatMinor));
        Assert.Equal(1500, notes.Sum(n => n.NetMinor));
    }

    [Fact]
    public async Task A_dispute_is_recorded_and_a_late_created_event_does_not_reopen_a_closed_one()
    {
        var (contract, checkout) = await CheckedOutAsync();
        var session = world.Stripe.CompletedSession(checkout.SessionId, taxMinor: 285);
        await DeliverAsync(StripeEvents.Event("checkout.session.completed", session));
        await InvoicedAsync(contract.Id);
        var intent = session["payment_intent"]!.GetValue<string>();

        var closedId = "evt_closed_" + intent;
        var createdId = "evt_created_" + intent;
        await DeliverAsync(StripeEvents.Event("charge.dispute.closed", StripeEvents.Dispute(intent, "lost", 1785), id: closedId));
        await DeliverAsync(StripeEvents.Event("charge.dispute.created", StripeEvents.Dispute(intent, "needs_response", 1785), id: createdId, created: DateTimeOffset.UtcNow.AddDays(-1)));

        // Processed in whichever order the queue hands them out: the end state must be the same.
        var events = app.Services.GetRequiredService<Functions.Billing.StripeIntegration.StripeEventStore>();
        async Task<bool> Processed(string id) => (await events.FindAsync(id, CancellationToken.None))?.Status is "processed" or "ignored";
        await Eventually.HoldsAsync(async () => await Processed(closedId) && await Processed(createdId), "both dispute events were processed");
        var dispute = Assert.Single(await app.Services.GetRequiredService<Functions.Billing.ContractRows>().ListAsync<Functions.Billing.Payments.DisputeEntity>(contract.Id, "dispute-", CancellationToken.None));
        Assert.Equal("lost", dispute.Status);
    }

    [Fact]
    public async Task A_payment_for_a_contract_that_expired_meanwhile_is_kept_invoiced_and_owed_back_in_full()
    {
        var (contract, checkout) = await CheckedOutAsync();
        var store = app.Services.GetRequiredService<ContractStore>();
        var row = (await store.FindAsync(contract.Id, CancellationToken.None))!;
        row.State = ContractState.Expired.Name();
        Assert.True(await store.TryMoveAsync(row, new ContractMoveEntity { PartitionKey = row.PartitionKey, RowKey = ContractMoveEntity.RowKeyFor(DateTimeOffset.UtcNow), From = "requested", To = "expired", By = "test", At = DateTimeOffset.UtcNow }, CancellationToken.None));

        await DeliverAsync(StripeEvents.Event("checkout.session.completed", world.Stripe.CompletedSession(checkout.SessionId, taxMinor: 285)));

        await InvoicedAsync(contract.Id);
        var refund = await Marketplace.RowAsync<RefundOwedEntity>(app, contract.Id, RefundOwedEntity.RowKeyFor(checkout.SessionId));
        Assert.NotNull(refund);
        Assert.Equal(1785, refund.RefundMinor);
        Assert.Equal(nameof(RefundReason.PaidAfterEnd), refund.Reason);
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
