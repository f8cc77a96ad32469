using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Storage.Queues;
using DecentCloud.Functions.Billing.Checkout;
using DecentCloud.Functions.Billing.StripeIntegration;
using DecentCloud.Functions.Health;
using DecentCloud.Functions.Platform.Queues;
using Microsoft.Azure.Functions.Worker;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Billing;

/// <summary>
/// No Stripe event is lost: a poisoned event keeps its message for as long as it takes an admin to replay it, an event
/// whose webhook never came is found in Stripe's event list, and a recorded event that was never finished is queued again.
/// </summary>
public sealed class StripeDurabilityTests(AzuriteFixture storage, BillingWorld world) : IClassFixture<AzuriteFixture>, IClassFixture<BillingWorld>, IAsyncLifetime
{
    private const long Net = 1500;
    private const long Vat = 285;

    /// <summary>Storage reports a never-expiring message as expiring on 31 December 9999.</summary>
    private static readonly DateTimeOffset NeverExpires = new(9999, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly ContractsOutage outage = new();
    private StorageProxy tables = null!;
    private TestFunctionApp app = null!;
    private Marketplace market = null!;

    public async Task InitializeAsync()
    {
        // The reconcilers run by hand, so that each run is one the test can count.
        var settings = world.Settings();
        settings["AzureWebJobs.RedriveStripeEvents.Disabled"] = "true";
        settings["AzureWebJobs.PollStripeEvents.Disabled"] = "true";
        // The app reaches its tables through a proxy that can make one contract's rows in the Contracts table unreachable.
        (tables, var throughProxy) = await StorageProxy.StartAsync(storage.ConnectionString, "TableEndpoint");
        tables.Fails = request => outage.ContractId is { } id && request.Contains($"/{ContractStore.TableName}", StringComparison.Ordinal) && request.Contains(id, StringComparison.Ordinal);
        app = await TestFunctionApp.StartAsync(throughProxy, settings: settings);
        market = await new Marketplace(app).OpenAsync(monthlyMinor: Net);
    }

    public async Task DisposeAsync()
    {
        outage.ContractId = null;
        await app.DisposeAsync();
        await tables.DisposeAsync();
    }

    /// <summary>Runs a reconciler once, in this process, with the app's services: a run the test can count and wait for.</summary>
    private Task RunAsync<TTimer>()
        where TTimer : class
    {
        var timer = ActivatorUtilities.CreateInstance<TTimer>(app.Services);
        return timer switch
        {
            RedriveStripeEvents redrive => redrive.Run(new TimerInfo(), CancellationToken.None),
            PollStripeEvents poll => poll.Run(new TimerInfo(), CancellationToken.None),
            WatchPoisonQueues watch => watch.Run(new TimerInfo(), CancellationToken.None),
            _ => throw new ArgumentException($"{typeof(TTimer).Name} is not one of the reconcilers these tests run."),
        };
    }

    private async Task<(ContractView Contract, CheckoutView Checkout)> CheckedOutAsync()
    {
        var contract = await market.RentAsync();
        var response = await market.CheckoutAsync(contract.Id);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (contract, (await response.Content.ReadFromJsonAsync<CheckoutView>())!);
    }

    private async Task<ContractEntity> PaidAsync(string contractId)
    {
        ContractEntity? contract = null;
        await Eventually.HoldsAsync(async () =>
        {
            contract = await app.Services.GetRequiredService<ContractStore>().FindAsync(contractId, CancellationToken.None);
            return contract?.PaymentSucceeded == true;
        }, $"contract {contractId} is paid");
        return contract!;
    }

    private async Task InvoicedAsync(string contractId, long gross) =>
        await Eventually.HoldsAsync(async () => (await Marketplace.DocumentsAsync(app, contractId)).Any(d => d.Kind == "Invoice" && d.GrossMinor == gross && d.PdfWrittenAt is not null),
            $"contract {contractId} is invoiced for {gross}");

    private QueueClient Queue(string name) => new(storage.ConnectionString, name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    private static HttpRequestMessage Admin(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("x-functions-key", TestKeys.Master);
        return request;
    }

    [Fact]
    public async Task A_payment_event_that_failed_until_poisoned_is_still_there_eight_days_on_and_is_applied_when_an_admin_replays_it()
    {
        var (contract, checkout) = await CheckedOutAsync();
        var poison = Queue(PoisonQueueName.NameFor(StripeWebhook.QueueName));
        await poison.CreateIfNotExistsAsync();
        await poison.ClearMessagesAsync();

        // The contract's rows cannot be reached while the event is processed, every try, until the message is poisoned.
        outage.ContractId = contract.Id;
        var body = StripeEvents.Event("checkout.session.completed", world.Stripe.CompletedSession(checkout.SessionId, taxMinor: Vat));
        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, body)).StatusCode);
        await Eventually.HoldsAsync(async () => (await poison.PeekMessagesAsync(32)).Value.Length == 1, "the event is in the poison queue");
        outage.ContractId = null;

        var copy = (await poison.PeekMessagesAsync(32)).Value.Single();
        Assert.True(copy.ExpiresOn > DateTimeOffset.UtcNow.AddDays(8), $"the poison copy expires on {copy.ExpiresOn}, before eight days are over");
        Assert.True(copy.ExpiresOn >= NeverExpires, $"the poison copy expires on {copy.ExpiresOn}; the webhook's message never does");
        Assert.False((await app.Services.GetRequiredService<ContractStore>().FindAsync(contract.Id, CancellationToken.None))!.PaymentSucceeded);

        // While it waits there, health says so.
        var health = await app.Client.GetFromJsonAsync<HealthReport>("api/health");
        Assert.Equal("degraded", health!.Status);
        Assert.Contains(health.Poisoned, p => p.Queue == StripeWebhook.QueueName && p.ApproximateMessages == 1);

        var replayed = await app.Client.SendAsync(Admin(HttpMethod.Post, $"api/v1/admin/queues/{StripeWebhook.QueueName}/poison/{copy.MessageId}/replay"));

        Assert.Equal(HttpStatusCode.NoContent, replayed.StatusCode);
        var paid = await PaidAsync(contract.Id);
        Assert.Equal(checkout.SessionId, paid.PaidSessionId);
        await InvoicedAsync(contract.Id, Net + Vat);
        Assert.Equal(StripeEventStatus.Processed, (await app.Services.GetRequiredService<StripeEventStore>().FindAsync(EventId(body), CancellationToken.None))!.Status);
        var after = (await app.Client.GetFromJsonAsync<HealthReport>("api/health"))!;
        Assert.True(after.Status == "healthy", $"health is {after.Status}: {string.Join(", ", after.Poisoned)}");
    }

    [Fact]
    public async Task An_event_whose_webhook_never_came_is_found_in_Stripes_event_list_across_pages_and_applied_once()
    {
        var (contract, checkout) = await CheckedOutAsync();
        var missed = StripeEvents.Event("checkout.session.completed", world.Stripe.CompletedSession(checkout.SessionId, taxMinor: Vat), created: DateTimeOffset.UtcNow.AddMinutes(-10));
        world.Stripe.Publish(missed);
        // Newer events fill the first page, so the missed one is on the second: the poller has to page.
        for (var i = 0; i < StripeEventList.PageSize + 10; i++)
        {
            world.Stripe.Publish(StripeEvents.Event("checkout.session.expired", StripeStandIn.Fixtures()["checkout.session"]!.AsObject(), created: DateTimeOffset.UtcNow.AddMinutes(-5)));
        }

        // Not one this app handles: the poller does not ask for it.
        var unhandled = StripeEvents.Event("customer.created", StripeStandIn.Fixtures()["customer"]!.AsObject(), created: DateTimeOffset.UtcNow.AddMinutes(-5));
        world.Stripe.Publish(unhandled);
        var before = world.Stripe.Requests.Count;

        await RunAsync<PollStripeEvents>();

        var paid = await PaidAsync(contract.Id);
        Assert.Equal(checkout.SessionId, paid.PaidSessionId);
        await InvoicedAsync(contract.Id, Net + Vat);
        var listed = world.Stripe.Requests.Skip(before).Where(r => r.Path == "/v1/events").ToList();
        Assert.Equal(2, listed.Count);
        Assert.All(listed, r =>
        {
            Assert.Equal($"Bearer {StripeStandIn.ApiKey}", r.Authorization);
            Assert.Equal(ProcessStripeEvent.HandledTypes.Order(), r.Form.Where(p => p.Key.StartsWith("types[", StringComparison.Ordinal)).Select(p => p.Value).Order());
            Assert.True(long.Parse(r.Form["created[gt]"]) < DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds(), "the first run looks back further than the missed event");
        });
        Assert.False(listed[0].Form.ContainsKey("starting_after"));
        Assert.True(listed[1].Form.ContainsKey("starting_after"));
        var store = app.Services.GetRequiredService<StripeEventStore>();
        Assert.False(await store.ExistsAsync(EventId(unhandled), CancellationToken.None));
        await Eventually.HoldsAsync(async () => (await store.FindAsync(EventId(missed), CancellationToken.None))?.Status == StripeEventStatus.Processed, "the missed event is processed");

        // The next run goes on from the newest event seen, and queues nothing it has already recorded.
        await Eventually.HoldsAsync(async () => (await Queue(StripeWebhook.QueueName).GetPropertiesAsync()).Value.ApproximateMessagesCount == 0, "the event queue is empty");
        var seen = world.Stripe.Requests.Count;
        await RunAsync<PollStripeEvents>();
        var again = world.Stripe.Requests.Skip(seen).Where(r => r.Path == "/v1/events").ToList();
        Assert.True(long.Parse(again[0].Form["created[gt]"]) >= DateTimeOffset.UtcNow.AddMinutes(-7).ToUnixTimeSeconds(), "the second run starts near the newest event seen");
        Assert.Equal(0, (await Queue(StripeWebhook.QueueName).GetPropertiesAsync()).Value.ApproximateMessagesCount);
        Assert.Single(await Marketplace.DocumentsAsync(app, contract.Id), d => d.Kind == "Invoice");
    }

    [Fact]
    public async Task A_recorded_event_that_was_never_queued_is_queued_again_and_applied_and_a_finished_one_is_left_alone()
    {
        var (contract, checkout) = await CheckedOutAsync();
        var body = StripeEvents.Event("checkout.session.completed", world.Stripe.CompletedSession(checkout.SessionId, taxMinor: Vat));
        var head = StripeEventJson.Head(body)!;
        var store = app.Services.GetRequiredService<StripeEventStore>();
        // As after a crash between recording a large event and queueing it: a row in "received" and no message.
        Assert.NotNull(await store.TryRecordAsync(head, body, DateTimeOffset.UtcNow.AddMinutes(-10), CancellationToken.None));
        var young = StripeEvents.Event("checkout.session.expired", StripeStandIn.Fixtures()["checkout.session"]!.AsObject());
        Assert.NotNull(await store.TryRecordAsync(StripeEventJson.Head(young)!, young, DateTimeOffset.UtcNow, CancellationToken.None));

        await RunAsync<RedriveStripeEvents>();

        await PaidAsync(contract.Id);
        await InvoicedAsync(contract.Id, Net + Vat);
        var record = await store.FindAsync(head.Id, CancellationToken.None);
        await Eventually.HoldsAsync(async () => (record = await store.FindAsync(head.Id, CancellationToken.None))!.Status == StripeEventStatus.Processed, "the event is processed");
        Assert.Equal(1, record!.Row.GetInt32("Requeues"));
        Assert.Equal(StripeEventStatus.Received, (await store.FindAsync(EventId(young), CancellationToken.None))!.Status);
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 8101 && e.Message.Contains(head.Id, StringComparison.Ordinal));

        await RunAsync<RedriveStripeEvents>();
        Assert.Equal(1, (await store.FindAsync(head.Id, CancellationToken.None))!.Row.GetInt32("Requeues"));
    }

    [Fact]
    public async Task An_event_re_driven_the_most_times_is_left_to_the_admins()
    {
        var body = StripeEvents.Event("checkout.session.expired", StripeStandIn.Fixtures()["checkout.session"]!.AsObject());
        var head = StripeEventJson.Head(body)!;
        var store = app.Services.GetRequiredService<StripeEventStore>();
        await store.TryRecordAsync(head, body, DateTimeOffset.UtcNow.AddDays(-1), CancellationToken.None);
        var row = (await store.FindAsync(head.Id, CancellationToken.None))!.Row;
        row["Requeues"] = 5;
        row["RequeuedAt"] = DateTimeOffset.UtcNow.AddDays(-1);
        await store.Table.UpdateEntityAsync(row, row.ETag);

        await RunAsync<RedriveStripeEvents>();

        Assert.Equal(5, (await store.FindAsync(head.Id, CancellationToken.None))!.Row.GetInt32("Requeues"));
        Assert.Equal(StripeEventStatus.Received, (await store.FindAsync(head.Id, CancellationToken.None))!.Status);
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 8103 && e.Message.Contains("1 left to the admins", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_late_copy_never_turns_a_processed_event_back_into_ignored()
    {
        var body = StripeEvents.Event("checkout.session.completed", StripeStandIn.Fixtures()["checkout.session"]!.AsObject());
        var head = StripeEventJson.Head(body)!;
        var store = app.Services.GetRequiredService<StripeEventStore>();
        await store.TryRecordAsync(head, body, DateTimeOffset.UtcNow, CancellationToken.None);

        Assert.Equal(StripeEventStatus.Processed, await store.MarkAsync(head.Id, StripeEventStatus.Processed, "paid", DateTimeOffset.UtcNow, CancellationToken.None));
        Assert.Equal(StripeEventStatus.Processed, await store.MarkAsync(head.Id, StripeEventStatus.Ignored, "already paid", DateTimeOffset.UtcNow, CancellationToken.None));

        var record = (await store.FindAsync(head.Id, CancellationToken.None))!;
        Assert.Equal(StripeEventStatus.Processed, record.Status);
        Assert.Equal("paid", record.Row.GetString("Outcome"));
        Assert.Equal(body, record.Body);

        // Copies racing: whatever the order, a processed mark wins.
        var other = StripeEvents.Event("checkout.session.completed", StripeStandIn.Fixtures()["checkout.session"]!.AsObject());
        var otherHead = StripeEventJson.Head(other)!;
        await store.TryRecordAsync(otherHead, other, DateTimeOffset.UtcNow, CancellationToken.None);
        await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            store.MarkAsync(otherHead.Id, i % 3 == 0 ? StripeEventStatus.Processed : StripeEventStatus.Ignored, $"copy {i}", DateTimeOffset.UtcNow, CancellationToken.None)));
        Assert.Equal(StripeEventStatus.Processed, (await store.FindAsync(otherHead.Id, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task A_poisoned_money_queue_makes_health_degraded_and_is_logged_at_error_once_per_run()
    {
        var invoices = Queue(PoisonQueueName.NameFor(Functions.Billing.Payments.InvoiceWork.QueueName));
        await invoices.CreateIfNotExistsAsync();
        await invoices.SendMessageAsync(BinaryData.FromString("""{"contractId":"c-1","sessionId":"cs_1"}"""));
        try
        {
            var response = await app.Client.GetAsync("api/health");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var health = (await response.Content.ReadFromJsonAsync<HealthReport>())!;
            Assert.Equal("degraded", health.Status);
            var poisoned = Assert.Single(health.Poisoned, p => p.Queue == Functions.Billing.Payments.InvoiceWork.QueueName);
            Assert.Equal(PoisonQueueName.NameFor(Functions.Billing.Payments.InvoiceWork.QueueName), poisoned.PoisonQueue);

            var errorsBefore = app.Logs.Entries.Count(e => e.EventId.Id == 4101);
            await RunAsync<WatchPoisonQueues>();
            var logged = app.Logs.Entries.Where(e => e.EventId.Id == 4101).Skip(errorsBefore).ToList();
            var error = Assert.Single(logged, e => e.Message.Contains(poisoned.PoisonQueue, StringComparison.Ordinal));
            Assert.Equal(LogLevel.Error, error.Level);
        }
        finally
        {
            await invoices.ClearMessagesAsync();
        }

        Assert.Equal("healthy", (await app.Client.GetFromJsonAsync<HealthReport>("api/health"))!.Status);
    }

    /// <summary>
    /// While a contract id is set, every request to the Contracts table about that contract fails as a dropped connection
    /// would; other contracts (work left over from earlier tests) are not touched.
    /// </summary>
    private sealed class ContractsOutage
    {
        private volatile string? contractId;

        public string? ContractId
        {
            get => contractId;
            set => contractId = value;
        }
    }

    private static string EventId(string body) => JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
}
