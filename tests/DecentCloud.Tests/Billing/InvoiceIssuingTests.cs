using System.Net;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using DecentCloud.Functions.Billing.Invoices;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Billing;

/// <summary>Invoice numbers under concurrency, the seller settings guard, write-once PDFs and receipt retries.</summary>
public sealed class InvoiceIssuingTests(AzuriteFixture storage, BillingWorld world) : IClassFixture<AzuriteFixture>, IClassFixture<BillingWorld>
{
    private static string Renter => new string('a', 64);

    private static string Provider => new string('b', 64);

    [Fact]
    public async Task Two_hundred_payments_through_two_instances_get_two_hundred_contiguous_numbers()
    {
        // A year of its own: the numbering partition holds only this test's invoices.
        await using var a = await TestFunctionApp.StartAsync(storage.ConnectionString, settings: world.Settings());
        await using var b = await TestFunctionApp.StartAsync(storage.ConnectionString, settings: world.Settings());
        var numbers = a.Services.GetRequiredService<InvoiceNumbers>();
        var year = DateTimeOffset.UtcNow.Year;
        var before = (await numbers.ListAsync(InvoiceNumbers.InvoicePrefix, year, CancellationToken.None)).Count;
        var contracts = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Marketplace.ContractRowAsync(a, Renter, Provider, "offering-1", 1000)));

        await Parallel.ForEachAsync(contracts.Select((c, i) => (c, i)), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (item, _) =>
        {
            var body = StripeEvents.Event("checkout.session.completed", Marketplace.SessionFor(item.c, taxMinor: 190));
            Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync((item.i % 2 == 0 ? a : b).Client, body)).StatusCode);
        });

        await Eventually.HoldsAsync(async () => (await numbers.ListAsync(InvoiceNumbers.InvoicePrefix, year, CancellationToken.None)).Count >= before + 200, "200 invoices are numbered", TimeSpan.FromMinutes(5));
        var issued = await numbers.ListAsync(InvoiceNumbers.InvoicePrefix, year, CancellationToken.None);
        Assert.Equal(Enumerable.Range(1, issued.Count).Select(n => InvoiceNumbers.Format(InvoiceNumbers.InvoicePrefix, year, n)), issued.Select(i => i.Number));
        var ours = issued.Where(i => contracts.Any(c => c.PartitionKey == i.ContractId)).ToList();
        Assert.Equal(200, ours.Count);
        Assert.Equal(200, ours.Select(i => i.ContractId).Distinct().Count());
        await Eventually.HoldsAsync(async () =>
        {
            var docs = await Task.WhenAll(contracts.Select(c => Marketplace.DocumentsAsync(a, c.PartitionKey)));
            return docs.All(d => d.Count == 1 && d[0].PdfWrittenAt is not null);
        }, "every contract has exactly one invoice with its PDF", TimeSpan.FromMinutes(5));
        var addresses = contracts.Select(c => $"buyer-{c.PartitionKey}@example.com").ToHashSet(StringComparer.Ordinal);
        await Eventually.HoldsAsync(() => world.SendGrid.Sent.Count(m => addresses.Contains(m.To[0].Email)) >= 200, "200 receipts are sent", TimeSpan.FromMinutes(5));
        Assert.Equal(200, world.SendGrid.Sent.Where(m => addresses.Contains(m.To[0].Email)).Select(m => m.To[0].Email).Distinct().Count());
        Assert.Contains(a.Logs.Entries, e => e.EventId.Id == 8040);
        Assert.Contains(b.Logs.Entries, e => e.EventId.Id == 8040);
    }

    [Fact]
    public async Task Numbers_continue_one_by_one_and_the_same_payment_keeps_its_number()
    {
        await using var app = await TestFunctionApp.StartAsync(storage.ConnectionString, settings: world.Settings());
        var numbers = app.Services.GetRequiredService<InvoiceNumbers>();
        var prefix = "T" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();

        var first = await numbers.NumberForAsync(prefix, "pay-1", "c1", CancellationToken.None);
        var again = await numbers.NumberForAsync(prefix, "pay-1", "c1", CancellationToken.None);
        var second = await numbers.NumberForAsync(prefix, "pay-2", "c2", CancellationToken.None);

        Assert.Equal($"{prefix}-{first.IssuedAt.Year}-000001", first.Number);
        Assert.Equal(first, again);
        Assert.Equal(2, second.Sequence);
    }

    [Fact]
    public async Task Without_seller_settings_the_payment_is_kept_no_invoice_is_issued_and_issuing_is_put_back_for_later()
    {
        await using var app = await TestFunctionApp.StartAsync(storage.ConnectionString, settings: world.Settings(seller: false));
        var contract = await Marketplace.ContractRowAsync(app, Renter, Provider, "offering-1", 1000);
        var session = Marketplace.SessionFor(contract, taxMinor: 190);

        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, StripeEvents.Event("checkout.session.completed", session))).StatusCode);

        await Eventually.HoldsAsync(() => app.Logs.Entries.Any(e => e.EventId.Id == 8042 && e.Message.Contains(contract.PartitionKey, StringComparison.Ordinal)), "the refusal is logged");
        var refusal = app.Logs.Entries.First(e => e.EventId.Id == 8042 && e.Message.Contains(contract.PartitionKey, StringComparison.Ordinal));
        Assert.Contains("INVOICE_SELLER_NAME", refusal.Exception!.Message, StringComparison.Ordinal);
        Assert.Contains("INVOICE_SELLER_ADDRESS", refusal.Exception.Message, StringComparison.Ordinal);
        Assert.Equal("paid", (await Marketplace.PaymentAsync(app, contract.PartitionKey, session["id"]!.GetValue<string>()))!.Status);
        Assert.Empty(await Marketplace.DocumentsAsync(app, contract.PartitionKey));
        // The work waits, hidden, on the invoice queue; nothing went to the poison queue.
        var queue = new QueueClient(storage.ConnectionString, InvoiceWork.QueueName);
        Assert.True((await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount >= 1);
        Assert.DoesNotContain(app.Logs.Entries, e => e.EventId.Id == 2104);
    }

    [Fact]
    public async Task The_store_refuses_a_second_write_of_an_invoice_pdf()
    {
        await using var app = await TestFunctionApp.StartAsync(storage.ConnectionString, settings: world.Settings());
        var blobs = app.Services.GetRequiredService<InvoiceBlobs>();
        var name = $"2026/INV-TEST-{Guid.NewGuid():N}.pdf";

        Assert.True(await blobs.TryWriteOnceAsync(name, [1, 2, 3], CancellationToken.None));
        Assert.False(await blobs.TryWriteOnceAsync(name, [9, 9, 9], CancellationToken.None));

        var stored = await new BlobContainerClient(storage.ConnectionString, InvoiceBlobs.ContainerName).GetBlobClient(name).DownloadContentAsync();
        Assert.Equal([1, 2, 3], stored.Value.Content.ToArray());
        Assert.Equal("application/pdf", stored.Value.Details.ContentType);
    }

    [Fact]
    public async Task A_receipt_SendGrid_keeps_refusing_lands_in_the_poison_queue_and_an_admin_replay_sends_it_once()
    {
        // One attempt per message here (maxDequeueCount 3 in the test host), so the retries are quick.
        await using var app = await TestFunctionApp.StartAsync(storage.ConnectionString, settings: world.Settings());
        var contract = await Marketplace.ContractRowAsync(app, Renter, Provider, "offering-1", 1000);
        var session = Marketplace.SessionFor(contract, taxMinor: 190);
        var to = session["customer_details"]!["email"]!.GetValue<string>();
        world.SendGrid.FailNext(3, 500);

        Assert.Equal(HttpStatusCode.OK, (await StripeEvents.DeliverAsync(app.Client, StripeEvents.Event("checkout.session.completed", session))).StatusCode);

        await Eventually.HoldsAsync(() => app.Logs.Entries.Any(e => e.EventId.Id == 2104 && e.Message.Contains(ReceiptWork.QueueName, StringComparison.Ordinal)), "the receipt is in the poison queue");
        Assert.DoesNotContain(world.SendGrid.Sent, m => m.To.Any(t => t.Email == to));
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 2103 && e.Message.Contains(nameof(Functions.Billing.Receipts.EmailSendException), StringComparison.Ordinal));

        using var admin = new HttpClient { BaseAddress = app.Client.BaseAddress };
        admin.DefaultRequestHeaders.Add("x-functions-key", TestKeys.Master);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"api/v1/admin/queues/{ReceiptWork.QueueName}/poison/replay", null)).StatusCode);

        await Eventually.HoldsAsync(() => world.SendGrid.Sent.Any(m => m.To.Any(t => t.Email == to)), "the replayed receipt is sent");
        var invoice = Assert.Single(await Marketplace.DocumentsAsync(app, contract.PartitionKey));
        await Eventually.HoldsAsync(async () => (await Marketplace.DocumentsAsync(app, contract.PartitionKey))[0].ReceiptSentAt is not null, "the receipt is marked sent");
        Assert.Single(world.SendGrid.Sent, m => m.To.Any(t => t.Email == to));
        Assert.Contains(invoice.Number, world.SendGrid.Sent.Single(m => m.To.Any(t => t.Email == to)).Subject, StringComparison.Ordinal);
    }
}
