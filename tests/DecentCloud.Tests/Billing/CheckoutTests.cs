using System.Net;
using System.Net.Http.Json;
using DecentCloud.Functions.Billing.Checkout;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Billing;

public sealed class CheckoutTests(CheckoutTests.Fixture billing) : IClassFixture<CheckoutTests.Fixture>, IAsyncLifetime
{
    private readonly BillingWorld world = billing.World;
    private readonly TestFunctionApp app = billing.App;
    private Marketplace market = null!;

    public async Task InitializeAsync()
    {
        market = await new Marketplace(app).OpenAsync(monthlyMinor: 1500);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private List<StripeRequest> SessionCreates(string contractId) =>
        world.Stripe.Requests.Where(r => r.Path == "/v1/checkout/sessions" && r.Form.GetValueOrDefault("client_reference_id") == contractId).ToList();

    [Fact]
    public async Task Checkout_asks_Stripe_for_a_taxed_invoiced_payment_session_and_answers_its_url()
    {
        var contract = await market.RentAsync(hours: 360);

        var response = await market.CheckoutAsync(contract.Id);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var view = (await response.Content.ReadFromJsonAsync<CheckoutView>())!;
        Assert.StartsWith("https://checkout.stripe.com/c/pay/cs_test_", view.Url, StringComparison.Ordinal);
        var sent = Assert.Single(SessionCreates(contract.Id));
        var form = sent.Form;
        Assert.Equal("payment", form["mode"]);
        Assert.Equal("true", form["automatic_tax[enabled]"]);
        Assert.Equal("true", form["tax_id_collection[enabled]"]);
        Assert.Equal("required", form["billing_address_collection"]);
        Assert.Equal("true", form["invoice_creation[enabled]"]);
        Assert.Equal(contract.Id, form["metadata[contract_id]"]);
        Assert.Equal(contract.Id, form["payment_intent_data[metadata][contract_id]"]);
        Assert.Equal($"https://app.decentcloud.example/contracts/{contract.Id}/paid", form["success_url"]);
        Assert.Equal($"https://app.decentcloud.example/contracts/{contract.Id}", form["cancel_url"]);
        Assert.Equal("eur", form["line_items[0][price_data][currency]"]);
        Assert.Equal("750", form["line_items[0][price_data][unit_amount]"]);
        Assert.Equal("exclusive", form["line_items[0][price_data][tax_behavior]"]);
        Assert.Equal("1", form["line_items[0][quantity]"]);
        Assert.Equal("Small VM (360 hours)", form["line_items[0][price_data][product_data][name]"]);
        Assert.Equal($"checkout-{contract.Id}-1", sent.IdempotencyKey);
        Assert.Equal(StripeEvents.ApiVersion, sent.StripeVersion);
        Assert.Equal($"Bearer {StripeStandIn.ApiKey}", sent.Authorization);
    }

    [Fact]
    public async Task Saved_billing_settings_become_the_Stripe_customer_the_session_is_for()
    {
        await market.SaveBillingAsync("Beta GmbH", "DE", "DE123456789");
        var contract = await market.RentAsync();

        Assert.Equal(HttpStatusCode.OK, (await market.CheckoutAsync(contract.Id)).StatusCode);

        var customer = Assert.Single(world.Stripe.Requests, r => r.Path == "/v1/customers" && r.Form.GetValueOrDefault("metadata[public_key]") == market.Renter.PublicKeyHex);
        Assert.Equal("Beta GmbH", customer.Form["name"]);
        Assert.Equal("invoices@beta.example", customer.Form["email"]);
        Assert.Equal("Invalidenstraße 116", customer.Form["address[line1]"]);
        Assert.Equal("10115", customer.Form["address[postal_code]"]);
        Assert.Equal("DE", customer.Form["address[country]"]);
        Assert.Equal("eu_vat", customer.Form["tax_id_data[0][type]"]);
        Assert.Equal("DE123456789", customer.Form["tax_id_data[0][value]"]);
        var session = Assert.Single(SessionCreates(contract.Id)).Form;
        Assert.StartsWith("cus_", session["customer"], StringComparison.Ordinal);
        Assert.Equal("auto", session["customer_update[address]"]);
        Assert.Equal("auto", session["customer_update[name]"]);
        Assert.False(session.ContainsKey("customer_email"));
    }

    [Fact]
    public async Task Without_billing_settings_the_session_is_pre_filled_with_nothing_but_creates_a_customer()
    {
        var contract = await market.RentAsync();

        Assert.Equal(HttpStatusCode.OK, (await market.CheckoutAsync(contract.Id)).StatusCode);

        var form = Assert.Single(SessionCreates(contract.Id)).Form;
        Assert.Equal("always", form["customer_creation"]);
        Assert.False(form.ContainsKey("customer"));
    }

    [Fact]
    public async Task A_second_checkout_call_answers_the_same_open_session_and_asks_Stripe_nothing()
    {
        var contract = await market.RentAsync();

        var first = (await (await market.CheckoutAsync(contract.Id)).Content.ReadFromJsonAsync<CheckoutView>())!;
        var second = (await (await market.CheckoutAsync(contract.Id)).Content.ReadFromJsonAsync<CheckoutView>())!;

        Assert.Equal(first.SessionId, second.SessionId);
        Assert.Equal(first.Url, second.Url);
        Assert.Single(SessionCreates(contract.Id));
    }

    [Fact]
    public async Task Concurrent_checkout_calls_all_get_one_session()
    {
        var contract = await market.RentAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(async _ => await market.CheckoutAsync(contract.Id)));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        var ids = await Task.WhenAll(answers.Select(async a => (await a.Content.ReadFromJsonAsync<CheckoutView>())!.SessionId));
        Assert.Single(ids.Distinct());
        // Every request that reached Stripe carried the same idempotency key: the ones that met a request in progress
        // got 409 and were retried by Stripe.net, so Stripe made one session.
        Assert.Single(SessionCreates(contract.Id).Select(r => r.IdempotencyKey).Distinct());
        Assert.Single(world.Stripe.Sessions.Values, s => s["client_reference_id"]!.GetValue<string>() == contract.Id);
    }

    [Fact]
    public async Task An_expired_session_is_replaced_by_a_new_one_with_the_next_attempt()
    {
        var contract = await market.RentAsync();
        var first = (await (await market.CheckoutAsync(contract.Id)).Content.ReadFromJsonAsync<CheckoutView>())!;
        var expired = world.Stripe.Sessions[first.SessionId].DeepClone().AsObject();
        expired["status"] = "expired";
        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, StripeEvents.Event("checkout.session.expired", expired))).StatusCode);
        await Eventually.HoldsAsync(async () => (await Marketplace.RowAsync<CheckoutEntity>(app, contract.Id, CheckoutEntity.CheckoutRowKey))?.Status == CheckoutStatus.Expired, "the session is marked expired");

        var second = (await (await market.CheckoutAsync(contract.Id)).Content.ReadFromJsonAsync<CheckoutView>())!;

        Assert.NotEqual(first.SessionId, second.SessionId);
        Assert.Equal(2, second.Attempt);
        Assert.Equal($"checkout-{contract.Id}-2", SessionCreates(contract.Id)[^1].IdempotencyKey);
    }

    [Fact]
    public async Task While_a_delayed_payment_is_on_its_way_there_is_no_new_session_and_after_it_failed_there_is()
    {
        var contract = await market.RentAsync();
        var first = (await (await market.CheckoutAsync(contract.Id)).Content.ReadFromJsonAsync<CheckoutView>())!;
        var unpaid = world.Stripe.CompletedSession(first.SessionId, taxMinor: 285, paymentStatus: "unpaid");
        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, StripeEvents.Event("checkout.session.completed", unpaid))).StatusCode);
        await Eventually.HoldsAsync(async () => (await Marketplace.RowAsync<CheckoutEntity>(app, contract.Id, CheckoutEntity.CheckoutRowKey))?.Status == CheckoutStatus.Pending, "the session is pending");

        var pending = await ApiAssert.ProblemAsync(await market.CheckoutAsync(contract.Id), HttpStatusCode.Conflict);
        Assert.Equal("Payment on its way", pending.GetProperty("title").GetString());

        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, StripeEvents.Event("checkout.session.async_payment_failed", unpaid))).StatusCode);
        await Eventually.HoldsAsync(async () => (await Marketplace.RowAsync<CheckoutEntity>(app, contract.Id, CheckoutEntity.CheckoutRowKey))?.Status == CheckoutStatus.Failed, "the session failed");
        var second = (await (await market.CheckoutAsync(contract.Id)).Content.ReadFromJsonAsync<CheckoutView>())!;

        Assert.NotEqual(first.SessionId, second.SessionId);
        Assert.Equal(2, second.Attempt);
        Assert.Equal("failed", (await Marketplace.PaymentAsync(app, contract.Id, first.SessionId))!.Status);
    }

    [Fact]
    public async Task Only_the_renter_may_pay_and_a_paid_contract_cannot_be_paid_again()
    {
        var contract = await market.RentAsync();

        await ApiAssert.ProblemAsync(await market.CheckoutAsync(contract.Id, market.Provider), HttpStatusCode.Forbidden);
        await ApiAssert.ProblemAsync(await market.CheckoutAsync("0123456789abcdef0123456789abcdef"), HttpStatusCode.NotFound);

        var open = (await (await market.CheckoutAsync(contract.Id)).Content.ReadFromJsonAsync<CheckoutView>())!;
        var paid = world.Stripe.CompletedSession(open.SessionId, taxMinor: 285);
        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, StripeEvents.Event("checkout.session.completed", paid))).StatusCode);
        await Eventually.HoldsAsync(async () => (await Marketplace.PaymentAsync(app, contract.Id, open.SessionId))?.Status == "paid", "the payment is recorded");

        var again = await ApiAssert.ProblemAsync(await market.CheckoutAsync(contract.Id), HttpStatusCode.Conflict);
        Assert.Equal("Already paid", again.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Stripe_failing_through_every_retry_answers_502_with_a_trace_id_and_stores_no_session()
    {
        var contract = await market.RentAsync();
        world.Stripe.FailNext(3);

        await ApiAssert.ProblemAsync(await market.CheckoutAsync(contract.Id), HttpStatusCode.BadGateway);

        Assert.Null(await Marketplace.RowAsync<CheckoutEntity>(app, contract.Id, CheckoutEntity.CheckoutRowKey));
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 8003 && e.Exception is not null);
    }

    /// <summary>
    /// Stripe.net's own retries as deployed (2): Stripe answers a concurrent request with the same idempotency key 409,
    /// and the retry gets the replay.
    /// </summary>
    public sealed class Fixture : BillingAppFixture
    {
        protected override void Configure(Dictionary<string, string?> settings) => settings["STRIPE_MAX_NETWORK_RETRIES"] = "2";
    }
}
