using System.Net;
using System.Net.Http.Json;
using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Hosting.Timers;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Billing;

/// <summary>Refunds the platform owes are paid through Stripe once, and only after an admin approved the big ones.</summary>
public sealed class RefundPayoutTests(AzuriteFixture storage, BillingWorld world) : IClassFixture<AzuriteFixture>, IClassFixture<BillingWorld>, IAsyncLifetime
{
    private TestFunctionApp app = null!;

    public async Task InitializeAsync()
    {
        // The refund timer is run by hand here, so that each run is one the test can count.
        var settings = world.Settings();
        settings["AzureWebJobs.PayRefunds.Disabled"] = "true";
        app = await TestFunctionApp.StartAsync(storage.ConnectionString, settings: settings);
    }

    public async Task DisposeAsync() => await app.DisposeAsync();

    private Task RunTimerAsync() =>
        ActivatorUtilities.CreateInstance<PayRefunds>(app.Services).Run(new TimerInfo(null, false, DateTimeOffset.UtcNow), CancellationToken.None);

    /// <summary>A contract paid through a session (its payment recorded by the webhook), then ended with a refund owed.</summary>
    private async Task<(ContractEntity Contract, string PaymentIntent)> PaidAndEndedAsync(long priceMinor, long refundMinor, bool awaitsApproval)
    {
        var contract = await Marketplace.ContractRowAsync(app, new string('d', 64), new string('e', 64), "offering-1", priceMinor);
        var session = Marketplace.SessionFor(contract, taxMinor: 0);
        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, StripeEvents.Event("checkout.session.completed", session))).StatusCode);
        await Eventually.HoldsAsync(async () => (await Marketplace.PaymentAsync(app, contract.PartitionKey, session["id"]!.GetValue<string>()))?.Status == "paid", "the payment is recorded");
        var rows = app.Services.GetRequiredService<Functions.Billing.ContractRows>();
        Assert.True(await rows.TryAddAsync(new RefundRequestEntity
        {
            PartitionKey = contract.PartitionKey,
            RefundMinor = refundMinor,
            Currency = "EUR",
            Reason = nameof(RefundReason.ExpiredWaitingForProvider),
            AwaitsAdminApproval = awaitsApproval,
            RequestedAt = DateTimeOffset.UtcNow,
        }, CancellationToken.None));
        return (contract, session["payment_intent"]!.GetValue<string>());
    }

    private List<StripeRequest> RefundRequests(string paymentIntent) =>
        world.Stripe.Requests.Where(r => r.Path == "/v1/refunds" && r.Form.GetValueOrDefault("payment_intent") == paymentIntent).ToList();

    [Fact]
    public async Task An_owed_refund_is_asked_of_Stripe_once_with_the_contract_as_idempotency_key()
    {
        var (contract, intent) = await PaidAndEndedAsync(1500, 1500, awaitsApproval: false);

        await RunTimerAsync();
        await RunTimerAsync();

        var sent = Assert.Single(RefundRequests(intent));
        Assert.Equal("1500", sent.Form["amount"]);
        Assert.Equal(contract.PartitionKey, sent.Form["metadata[contract_id]"]);
        Assert.Equal($"refund-{contract.PartitionKey}", sent.IdempotencyKey);
        var refund = (await Marketplace.RowAsync<RefundRequestEntity>(app, contract.PartitionKey, RefundRequestEntity.RefundRowKey))!;
        Assert.NotNull(refund.RefundIssuedAt);
        Assert.StartsWith("re_", refund.StripeRefundId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refund_above_the_threshold_waits_for_an_admin_and_is_paid_after_approval()
    {
        var (contract, intent) = await PaidAndEndedAsync(200_000, 200_000, awaitsApproval: true);
        using var admin = new HttpClient { BaseAddress = app.Client.BaseAddress };
        admin.DefaultRequestHeaders.Add("x-functions-key", TestKeys.Master);

        await RunTimerAsync();
        Assert.Empty(RefundRequests(intent));
        var open = (await admin.GetFromJsonAsync<List<RefundView>>("api/v1/admin/refunds"))!;
        Assert.Contains(open, r => r.ContractId == contract.PartitionKey && r.AwaitsAdminApproval);

        var approved = await admin.PostAsync($"api/v1/admin/contracts/{contract.PartitionKey}/refund/approve", null);
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        await RunTimerAsync();

        Assert.Equal("200000", Assert.Single(RefundRequests(intent)).Form["amount"]);
        Assert.Equal("master", (await Marketplace.RowAsync<RefundRequestEntity>(app, contract.PartitionKey, RefundRequestEntity.RefundRowKey))!.ApprovedBy);
        await ApiAssert.ProblemAsync(await admin.PostAsync($"api/v1/admin/contracts/{contract.PartitionKey}/refund/approve", null), HttpStatusCode.Conflict);
        await ApiAssert.ProblemAsync(await app.Client.PostAsync($"api/v1/admin/contracts/{contract.PartitionKey}/refund/approve", null), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Stripe_refusing_a_refund_leaves_it_owed_for_the_next_run()
    {
        var (contract, intent) = await PaidAndEndedAsync(1500, 700, awaitsApproval: false);
        world.Stripe.FailNext(1);

        await RunTimerAsync();

        Assert.Null((await Marketplace.RowAsync<RefundRequestEntity>(app, contract.PartitionKey, RefundRequestEntity.RefundRowKey))!.RefundIssuedAt);
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 8061 && e.Exception is not null);
        await RunTimerAsync();
        Assert.Equal(2, RefundRequests(intent).Count);
        Assert.NotNull((await Marketplace.RowAsync<RefundRequestEntity>(app, contract.PartitionKey, RefundRequestEntity.RefundRowKey))!.RefundIssuedAt);
    }

    [Fact]
    public async Task When_Stripe_reports_the_refund_the_request_is_done_and_a_credit_note_is_issued()
    {
        var (contract, intent) = await PaidAndEndedAsync(1500, 1500, awaitsApproval: false);
        await RunTimerAsync();

        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, StripeEvents.Event("charge.refunded", StripeEvents.RefundedCharge(intent, 1500, 1500)))).StatusCode);

        await Eventually.HoldsAsync(async () => (await Marketplace.RowAsync<RefundRequestEntity>(app, contract.PartitionKey, RefundRequestEntity.RefundRowKey))?.RefundedAt is not null, "the refund is marked done");
        await Eventually.HoldsAsync(async () => (await Marketplace.DocumentsAsync(app, contract.PartitionKey)).Any(d => d.Kind == "CreditNote" && d.PdfWrittenAt is not null), "the credit note is issued");
        using var admin = new HttpClient { BaseAddress = app.Client.BaseAddress };
        admin.DefaultRequestHeaders.Add("x-functions-key", TestKeys.Master);
        Assert.DoesNotContain((await admin.GetFromJsonAsync<List<RefundView>>("api/v1/admin/refunds"))!, r => r.ContractId == contract.PartitionKey);
    }
}
