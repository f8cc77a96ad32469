using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using DecentCloud.Functions.Billing;
using DecentCloud.Functions.Billing.Checkout;
using DecentCloud.Functions.Billing.Invoices;
using DecentCloud.Functions.Billing.Refunding;
using Microsoft.Azure.Functions.Worker;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Provisioning.Lifecycle;
using DecentCloud.Tests.Support;
using UglyToad.PdfPig;

namespace DecentCloud.Tests.Billing;

/// <summary>
/// Refunds owed, end to end through the HTTP API, the queues, Azurite and the Stripe and SendGrid stand-ins: a paid
/// contract (15.00 EUR net + 2.85 VAT = 17.85 gross) that ends early is refunded what it was charged, once, against its
/// own payment, with a credit note that sums with the invoice, emailed once.
/// </summary>
public sealed partial class RefundsOwedTests(RefundsOwedTests.Fixture billing) : IClassFixture<RefundsOwedTests.Fixture>, IAsyncLifetime
{
    private const long Net = 1500;
    private const long Vat = 285;
    private const long Gross = Net + Vat;

    private readonly BillingWorld world = billing.World;
    private readonly TestFunctionApp app = billing.App;
    private Marketplace market = null!;

    public async Task InitializeAsync()
    {
        market = await new Marketplace(app).OpenAsync(monthlyMinor: Net);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>The refund and timeout timers are run by hand, so that each run is one the test can count.</summary>
    private Task<TestFunctionApp> StartAsync(string? thresholds = null)
    {
        var settings = world.Settings();
        settings["AzureWebJobs.PayRefunds.Disabled"] = "true";
        settings["AzureWebJobs.ExpireContracts.Disabled"] = "true";
        if (thresholds is not null)
        {
            settings["REFUND_APPROVAL_THRESHOLDS"] = thresholds;
        }

        return TestFunctionApp.StartAsync(billing.ConnectionString, settings: settings);
    }

    private static Task PayRefundsAsync(TestFunctionApp on) =>
        ActivatorUtilities.CreateInstance<PayRefunds>(on.Services).Run(new TimerInfo(), CancellationToken.None);

    private async Task DeliverAsync(string body) =>
        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, body)).StatusCode);

    private sealed record Paid(string ContractId, string SessionId, string Intent, InvoiceEntity Invoice);

    /// <summary>Rents, checks out through the API, and pays with 19 % VAT; waits for the invoice.</summary>
    private async Task<Paid> RentAndPayAsync(bool accept = false)
    {
        var contract = await market.RentAsync();
        if (accept)
        {
            await MoveAsync(contract.Id, "accept", market.Provider, HttpStatusCode.OK);
        }

        var checkout = (await (await market.CheckoutAsync(contract.Id)).Content.ReadFromJsonAsync<CheckoutView>())!;
        var session = world.Stripe.CompletedSession(checkout.SessionId, taxMinor: Vat);
        await DeliverAsync(StripeEvents.Event("checkout.session.completed", session));
        return new Paid(contract.Id, checkout.SessionId, session["payment_intent"]!.GetValue<string>(), await DocumentAsync(contract.Id, "Invoice", Gross));
    }

    private async Task<HttpResponseMessage> MoveAsync(string contractId, string action, DecentCloud.Shared.Signing.Ed25519phKey signer, HttpStatusCode? expected = null)
    {
        using var client = app.SignedBy(signer);
        var response = await client.PostAsync($"api/v1/contracts/{contractId}/{action}", null);
        if (expected is { } status)
        {
            Assert.Equal(status, response.StatusCode);
        }

        return response;
    }

    private async Task<InvoiceEntity> DocumentAsync(string contractId, string kind, long grossMinor)
    {
        InvoiceEntity? found = null;
        await Eventually.HoldsAsync(async () =>
        {
            found = (await Marketplace.DocumentsAsync(app, contractId)).FirstOrDefault(d => d.Kind == kind && d.GrossMinor == grossMinor && d.PdfWrittenAt is not null);
            return found is not null;
        }, $"a {kind} of {grossMinor} is issued for contract {contractId}");
        return found!;
    }

    private Task<List<RefundOwedEntity>> RefundsAsync(string contractId) =>
        app.Services.GetRequiredService<ContractRows>().ListAsync<RefundOwedEntity>(contractId, RefundOwedEntity.RowKeyPrefix, CancellationToken.None);

    private List<StripeRequest> RefundRequests(string intent) =>
        world.Stripe.Requests.Where(r => r.Path == "/v1/refunds" && r.Form.GetValueOrDefault("payment_intent") == intent).ToList();

    /// <summary>Stripe reports the refund as it now stands on the charge; waits until the refund row is done and the note issued.</summary>
    private async Task<InvoiceEntity> StripeReportsRefundAsync(Paid paid, long noteGross)
    {
        await DeliverAsync(StripeEvents.Event("charge.refunded", world.Stripe.RefundedCharge(paid.Intent)));
        return await DocumentAsync(paid.ContractId, "CreditNote", noteGross);
    }

    /// <summary>The credit notes of a payment cancel its invoice exactly: their net and VAT sum to the invoice's.</summary>
    private async Task AssertCreditedInFullAsync(Paid paid)
    {
        var notes = (await Marketplace.DocumentsAsync(app, paid.ContractId)).Where(d => d.Kind == "CreditNote" && d.SessionId == paid.SessionId).ToList();
        Assert.Equal(paid.Invoice.GrossMinor, notes.Sum(n => n.GrossMinor));
        Assert.Equal(paid.Invoice.VatMinor, notes.Sum(n => n.VatMinor));
        Assert.Equal(paid.Invoice.NetMinor, notes.Sum(n => n.NetMinor));
        Assert.All(notes, n => Assert.Equal(n.GrossMinor, n.NetMinor + n.VatMinor));
        Assert.True(notes.All(n => n.VatMinor > 0), "every credit note carries its VAT share");
    }

    public static TheoryData<string> Endings => ["rejected by the provider", "cancelled by the renter before acceptance", "cancelled by the renter after acceptance", "timed out"];

    [Theory]
    [MemberData(nameof(Endings))]
    public async Task A_paid_contract_that_ends_before_service_is_refunded_the_gross_amount_once_with_a_credit_note_that_cancels_the_invoice(string ending)
    {
        var paid = await RentAndPayAsync(accept: ending is "cancelled by the renter after acceptance" or "timed out");
        var (state, reason) = ending switch
        {
            "rejected by the provider" => ("rejected", RefundReason.ProviderRejected),
            "timed out" => ("provisioningfailed", RefundReason.ProvisioningFailed),
            _ => ("cancelled", RefundReason.RenterCancelled),
        };
        if (ending == "timed out")
        {
            // A paid accepted contract's provisioning times out in its orchestration, whose move is this (the
            // orchestration itself is shown in tests/DecentCloud.Tests/Provisioning/Lifecycle/ContractLifecycleTests).
            var moved = await app.Services.GetRequiredService<ContractLifecycleWork>().MoveAsync(
                new LifecycleMove(paid.ContractId, ContractState.Accepted, ContractState.ProvisioningFailed), CancellationToken.None);
            Assert.True(moved.Moved, moved.Detail);
        }
        else
        {
            var moved = await MoveAsync(paid.ContractId, ending.StartsWith("rejected", StringComparison.Ordinal) ? "reject" : "cancel",
                ending.StartsWith("rejected", StringComparison.Ordinal) ? market.Provider : market.Renter, HttpStatusCode.OK);
            Assert.Equal(state, (await moved.Content.ReadFromJsonAsync<ContractView>())!.State);
        }

        // Written with the move: the gross amount Checkout charged, VAT included.
        var owed = Assert.Single(await RefundsAsync(paid.ContractId));
        Assert.Equal((Gross, reason.ToString(), paid.SessionId, "to-pay"), (owed.RefundMinor, owed.Reason, owed.SessionId, owed.Status));
        Assert.Equal(state, (await app.Services.GetRequiredService<ContractStore>().FindAsync(paid.ContractId, CancellationToken.None))!.State);

        await PayRefundsAsync(app);
        await PayRefundsAsync(app);

        var sent = Assert.Single(RefundRequests(paid.Intent));
        Assert.Equal(Gross.ToString(System.Globalization.CultureInfo.InvariantCulture), sent.Form["amount"]);
        Assert.Equal($"refund-{paid.SessionId}", sent.IdempotencyKey);
        Assert.Equal(paid.ContractId, sent.Form["metadata[contract_id]"]);
        Assert.Equal(Gross, world.Stripe.RefundedOf(paid.Intent));

        var note = await StripeReportsRefundAsync(paid, Gross);
        Assert.Equal((Net, Vat), (note.NetMinor, note.VatMinor));
        await AssertCreditedInFullAsync(paid);
        Assert.Equal("done", Assert.Single(await RefundsAsync(paid.ContractId)).Status);
        await AssertServedAndEmailedOnceAsync(paid, note);
    }

    /// <summary>The credit note is served to the renter, linked from the invoice metadata, and emailed once even when Stripe repeats itself.</summary>
    private async Task AssertServedAndEmailedOnceAsync(Paid paid, InvoiceEntity note)
    {
        using var renter = app.SignedBy(market.Renter);
        var pdf = await renter.GetAsync($"api/v1/contracts/{paid.ContractId}/credit-notes/{note.Number}");
        Assert.Equal(HttpStatusCode.OK, pdf.StatusCode);
        Assert.Equal("application/pdf", pdf.Content.Headers.ContentType?.MediaType);
        using (var document = PdfDocument.Open(await pdf.Content.ReadAsByteArrayAsync()))
        {
            var text = Spaces().Replace(string.Join(" ", document.GetPages().Select(p => string.Join(" ", p.GetWords().Select(w => w.Text)))), " ");
            Assert.Contains(note.Number, text, StringComparison.Ordinal);
            Assert.Contains(paid.Invoice.Number, text, StringComparison.Ordinal);
        }

        var metadata = (await renter.GetFromJsonAsync<ContractInvoicesView>($"api/v1/contracts/{paid.ContractId}/invoice/metadata"))!;
        var listed = Assert.Single(metadata.CreditNotes, n => n.Number == note.Number);
        Assert.Equal($"/api/v1/contracts/{paid.ContractId}/credit-notes/{note.Number}", listed.Href);
        Assert.Equal(paid.Invoice.Number, listed.RefersTo);

        // Stripe delivers again: nothing new is issued or sent. Sent is marked by the one delivery holding the claim to
        // send, so once it is marked every other copy of the work finds it sent.
        var again = StripeEvents.Event("charge.refunded", world.Stripe.RefundedCharge(paid.Intent));
        await DeliverAsync(again);
        var events = app.Services.GetRequiredService<Functions.Billing.StripeIntegration.StripeEventStore>();
        var againId = System.Text.Json.Nodes.JsonNode.Parse(again)!["id"]!.GetValue<string>();
        await Eventually.HoldsAsync(async () => (await events.FindAsync(againId, CancellationToken.None))?.Status is "processed" or "ignored", "the repeated event is processed");
        await Eventually.HoldsAsync(async () => (await Marketplace.DocumentsAsync(app, paid.ContractId)).Single(d => d.Number == note.Number).ReceiptSentAt is not null, $"credit note {note.Number} is marked emailed");
        var email = Assert.Single(world.SendGrid.Sent, m => m.Subject?.Contains(note.Number, StringComparison.Ordinal) == true);
        Assert.Equal("billing@beta.example", Assert.Single(email.To).Email);
        Assert.Equal($"{note.Number}.pdf", Assert.Single(email.Attachments).FileName);
        Assert.Single(await Marketplace.DocumentsAsync(app, paid.ContractId), d => d.Kind == "CreditNote");

        using var stranger = app.SignedBy(DecentCloud.Shared.Signing.Ed25519phKey.Generate());
        await ApiAssert.ProblemAsync(await stranger.GetAsync($"api/v1/contracts/{paid.ContractId}/credit-notes/{note.Number}"), HttpStatusCode.Forbidden);
        await ApiAssert.ProblemAsync(await renter.GetAsync($"api/v1/contracts/{paid.ContractId}/credit-notes/CN-1999-000001"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_second_payment_for_the_same_contract_is_refunded_in_full_against_its_own_payment()
    {
        var first = await RentAndPayAsync();
        // The renter paid again in a second session (opened in another tab before the first was paid).
        var second = world.Stripe.OpenSession(first.ContractId, Net);
        var secondSession = world.Stripe.CompletedSession(second, taxMinor: Vat);
        var secondIntent = secondSession["payment_intent"]!.GetValue<string>();
        await DeliverAsync(StripeEvents.Event("checkout.session.completed", secondSession));
        await DocumentAsync(first.ContractId, "Invoice", Gross);
        await Eventually.HoldsAsync(async () => (await Marketplace.DocumentsAsync(app, first.ContractId)).Count(d => d.Kind == "Invoice" && d.PdfWrittenAt is not null) == 2, "the second payment is invoiced");

        var duplicate = Assert.Single(await RefundsAsync(first.ContractId));
        Assert.Equal((second, Gross, nameof(RefundReason.DuplicatePayment)), (duplicate.SessionId, duplicate.RefundMinor, duplicate.Reason));
        await PayRefundsAsync(app);
        Assert.Equal(Gross.ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(RefundRequests(secondIntent)).Form["amount"]);
        Assert.Empty(RefundRequests(first.Intent));

        // Stripe reports it: the duplicate's own invoice gets the credit note, and its refund is done.
        var duplicatePaid = new Paid(first.ContractId, second, secondIntent,
            (await Marketplace.DocumentsAsync(app, first.ContractId)).Single(d => d.Kind == "Invoice" && d.SessionId == second));
        await DeliverAsync(StripeEvents.Event("charge.refunded", world.Stripe.RefundedCharge(secondIntent)));
        await Eventually.HoldsAsync(async () => (await RefundsAsync(first.ContractId)).Single().Status == "done", "the duplicate's refund is done");
        var note = await DocumentAsync(first.ContractId, "CreditNote", Gross);
        Assert.Equal((second, duplicatePaid.Invoice.Number), (note.SessionId, note.Document().RefersTo));
        await AssertCreditedInFullAsync(duplicatePaid);

        // The contract itself is then cancelled: its settling payment is refunded on its own, the duplicate not again.
        await MoveAsync(first.ContractId, "cancel", market.Renter, HttpStatusCode.OK);
        await PayRefundsAsync(app);
        Assert.Single(RefundRequests(secondIntent));
        Assert.Equal(Gross.ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(RefundRequests(first.Intent)).Form["amount"]);
        Assert.Equal(2, (await RefundsAsync(first.ContractId)).Count);
    }

    [Fact]
    public async Task Two_concurrent_moves_and_a_provisioning_timeout_write_one_refund_and_Stripe_is_asked_once()
    {
        var paid = await RentAndPayAsync(accept: true);
        // The paid accepted contract's provisioning timeout, as its orchestration moves it.
        var timeout = app.Services.GetRequiredService<ContractLifecycleWork>();

        var moves = await Task.WhenAll(
            MoveAsync(paid.ContractId, "reject", market.Provider),
            MoveAsync(paid.ContractId, "cancel", market.Renter),
            MoveAsync(paid.ContractId, "reject", market.Provider),
            MoveAsync(paid.ContractId, "cancel", market.Renter),
            timeout.MoveAsync(new LifecycleMove(paid.ContractId, ContractState.Accepted, ContractState.ProvisioningFailed), CancellationToken.None)
                .ContinueWith(_ => new HttpResponseMessage(HttpStatusCode.NoContent), TaskScheduler.Default));

        Assert.True(moves.Count(m => m.StatusCode == HttpStatusCode.OK) <= 1);
        Assert.All(moves, m => Assert.Contains(m.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Conflict, HttpStatusCode.NoContent }));
        var owed = Assert.Single(await RefundsAsync(paid.ContractId));
        Assert.Equal(Gross, owed.RefundMinor);
        Assert.Single(await app.Services.GetRequiredService<ContractStore>().MovesAsync(paid.ContractId, CancellationToken.None), m => m.From == "accepted");
        await Task.WhenAll(PayRefundsAsync(app), PayRefundsAsync(app));
        Assert.Single(RefundRequests(paid.Intent));
        Assert.Equal(Gross, world.Stripe.RefundedOf(paid.Intent));
    }

    [Fact]
    public async Task A_refund_made_by_hand_counts_towards_the_refund_owed_and_every_credit_note_sums_with_the_invoice()
    {
        var paid = await RentAndPayAsync();
        // 5.00 refunded in the Stripe Dashboard as a goodwill gesture; Stripe reports it.
        world.Stripe.RefundInDashboard(paid.Intent, 500);
        await StripeReportsRefundAsync(paid, 500);

        await MoveAsync(paid.ContractId, "reject", market.Provider, HttpStatusCode.OK);

        Assert.Equal((Gross - 500, 500L), Assert.Single(await RefundsAsync(paid.ContractId)) is var owed ? (owed.RefundMinor, owed.RefundedBeforeMinor) : default);
        await PayRefundsAsync(app);
        Assert.Equal((Gross - 500).ToString(System.Globalization.CultureInfo.InvariantCulture), RefundRequests(paid.Intent).Last().Form["amount"]);
        await StripeReportsRefundAsync(paid, Gross - 500);
        await AssertCreditedInFullAsync(paid);
    }

    [Fact]
    public async Task A_refund_above_its_currency_threshold_waits_for_an_admin_and_is_paid_after_approval()
    {
        await using var strict = await StartAsync(thresholds: "EUR=1000;USD=100000");
        var strictMarket = await new Marketplace(strict).OpenAsync(monthlyMinor: Net);
        var contract = await strictMarket.RentAsync();
        var checkout = (await (await strictMarket.CheckoutAsync(contract.Id)).Content.ReadFromJsonAsync<CheckoutView>())!;
        var session = world.Stripe.CompletedSession(checkout.SessionId, taxMinor: Vat);
        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(strict.Client, StripeEvents.Event("checkout.session.completed", session))).StatusCode);
        await Eventually.HoldsAsync(async () => (await Marketplace.PaymentAsync(strict, contract.Id, checkout.SessionId))?.Status == "paid", "the payment is recorded");
        using (var provider = strict.SignedBy(strictMarket.Provider))
        {
            Assert.Equal(HttpStatusCode.OK, (await provider.PostAsync($"api/v1/contracts/{contract.Id}/reject", null)).StatusCode);
        }

        var intent = session["payment_intent"]!.GetValue<string>();
        await PayRefundsAsync(strict);
        Assert.Empty(RefundRequests(intent));

        using var admin = new HttpClient { BaseAddress = strict.Client.BaseAddress };
        admin.DefaultRequestHeaders.Add("x-functions-key", TestKeys.Master);
        var waiting = Assert.Single((await admin.GetFromJsonAsync<List<RefundView>>("api/v1/admin/refunds?status=awaiting-approval"))!, r => r.ContractId == contract.Id);
        Assert.Equal((checkout.SessionId, intent, nameof(RefundReason.ProviderRejected), Gross, Gross, 0L), (waiting.SessionId, waiting.PaymentIntentId, waiting.Reason, waiting.ChargedMinor, waiting.RefundMinor, waiting.RefundedBeforeMinor));

        var approve = $"api/v1/admin/contracts/{contract.Id}/refunds/{checkout.SessionId}/approve";
        await ApiAssert.ProblemAsync(await strict.Client.PostAsync(approve, null), HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync(approve, null)).StatusCode);
        await PayRefundsAsync(strict);

        Assert.Equal(Gross.ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(RefundRequests(intent)).Form["amount"]);
        var issued = Assert.Single((await admin.GetFromJsonAsync<List<RefundView>>("api/v1/admin/refunds?status=issued"))!, r => r.ContractId == contract.Id);
        Assert.Equal(("master", Gross), (issued.ApprovedBy, issued.IssuedMinor));
        await ApiAssert.ProblemAsync(await admin.PostAsync(approve, null), HttpStatusCode.Conflict);
        await ApiAssert.ProblemAsync(await admin.PostAsync($"api/v1/admin/contracts/{contract.Id}/refunds/cs_test_none/approve", null), HttpStatusCode.NotFound);
        await ApiAssert.ProblemAsync(await admin.GetAsync("api/v1/admin/refunds?status=lost"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Stripe_failing_leaves_the_refund_owed_and_the_next_run_sends_the_same_request()
    {
        var paid = await RentAndPayAsync();
        await MoveAsync(paid.ContractId, "cancel", market.Renter, HttpStatusCode.OK);
        // Stripe.net does not retry a POST that Stripe answered 500 (it may have been applied): the run gives up on it.
        world.Stripe.FailNext(1);

        await PayRefundsAsync(app);

        Assert.Null(Assert.Single(await RefundsAsync(paid.ContractId)).RefundIssuedAt);
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 8061 && e.Exception is not null);
        Assert.Equal(0, world.Stripe.RefundedOf(paid.Intent));
        await PayRefundsAsync(app);
        Assert.Equal(Gross, world.Stripe.RefundedOf(paid.Intent));
        Assert.Single(RefundRequests(paid.Intent).Select(r => (r.IdempotencyKey, r.Form["amount"])).Distinct());
        Assert.NotNull(Assert.Single(await RefundsAsync(paid.ContractId)).RefundIssuedAt);
    }

    [Fact]
    public async Task The_Stripe_stand_in_refuses_a_refund_above_what_the_charge_still_holds_as_Stripe_does()
    {
        world.Stripe.HoldPayment("pi_standin_refund_check", 1785);
        using var stripe = new HttpClient { BaseAddress = world.Stripe.BaseAddress };
        stripe.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", StripeStandIn.ApiKey);
        Task<HttpResponseMessage> RefundAsync(long amount) => stripe.PostAsync("v1/refunds",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["payment_intent"] = "pi_standin_refund_check", ["amount"] = amount.ToString(System.Globalization.CultureInfo.InvariantCulture) }));

        Assert.Equal(HttpStatusCode.OK, (await RefundAsync(1000)).StatusCode);
        var tooLarge = await RefundAsync(786);
        Assert.Equal(HttpStatusCode.BadRequest, tooLarge.StatusCode);
        Assert.Contains("amount_too_large", await tooLarge.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await RefundAsync(785)).StatusCode);
        Assert.Contains("charge_already_refunded", await (await RefundAsync(1)).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1785, world.Stripe.RefundedOf("pi_standin_refund_check"));
    }

    [Fact]
    public async Task An_unpaid_contract_that_ends_owes_nothing()
    {
        var contract = await market.RentAsync();
        await MoveAsync(contract.Id, "reject", market.Provider, HttpStatusCode.OK);
        Assert.Empty(await RefundsAsync(contract.Id));
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    /// <summary>The refund and timeout timers are run by hand, so that each run is one the test can count.</summary>
    public sealed class Fixture : BillingAppFixture
    {
        protected override void Configure(Dictionary<string, string?> settings)
        {
            settings["AzureWebJobs.PayRefunds.Disabled"] = "true";
            settings["AzureWebJobs.ExpireContracts.Disabled"] = "true";
        }
    }
}
