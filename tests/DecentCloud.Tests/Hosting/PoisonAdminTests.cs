using System.Net;
using System.Net.Http.Json;
using Azure.Storage.Queues;
using DecentCloud.Functions.Platform.Queues;
using DecentCloud.Functions.Operations;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Hosting;

public sealed class PoisonAdminTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private static HttpRequestMessage Admin(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("x-functions-key", TestKeys.Master);
        return request;
    }

    private QueueClient Raw(string name)
    {
        var queue = new QueueClient(storage.ConnectionString, name);
        queue.CreateIfNotExists();
        return queue;
    }

    /// <summary>An app with a working queue function whose poison queue already holds <paramref name="poisoned"/> messages.</summary>
    private async Task<(TestFunctionApp App, string Queue, WorkLog Log, string[] Texts)> AppWithPoisonAsync(int poisoned)
    {
        var queue = TestFunctionApp.UniqueQueueName("admin");
        var poison = Raw(PoisonQueueName.NameFor(queue));
        var texts = Enumerable.Range(0, poisoned)
            .Select(i => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($$"""{"id":"p-{{i}}","size":{{i}}}""")))
            .ToArray();
        foreach (var text in texts)
        {
            await poison.SendMessageAsync(text);
        }

        var done = new QueueClient(storage.ConnectionString, queue + "-done", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await done.CreateIfNotExistsAsync();
        var log = new WorkLog(done);
        var app = await TestFunctionApp.StartAsync(
            storage.ConnectionString,
            settings: new Dictionary<string, string?> { ["TEST_WORK_QUEUE"] = queue, ["TEST_DONE_QUEUE"] = queue + "-done" },
            withTestFunctions: true);
        return (app, queue, log, texts);
    }

    [Fact]
    public async Task An_admin_lists_the_poison_messages_of_a_queue_with_their_bodies()
    {
        var (app, queue, _, _) = await AppWithPoisonAsync(3);
        await using var _ = app;

        var response = await app.Client.SendAsync(Admin(HttpMethod.Get, $"api/v1/admin/queues/{queue}/poison"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var list = (await response.Content.ReadFromJsonAsync<PoisonMessageList>())!;
        Assert.Equal(3, list.ApproximateCount);
        Assert.Equal(PoisonQueueName.NameFor(queue), list.PoisonQueue);
        Assert.Equal(["""{"id":"p-0","size":0}""", """{"id":"p-1","size":1}""", """{"id":"p-2","size":2}"""], list.Messages.Select(m => m.Body).Order().ToArray());

        var queues = await (await app.Client.SendAsync(Admin(HttpMethod.Get, "api/v1/admin/queues"))).Content.ReadFromJsonAsync<List<QueueCounts>>();
        Assert.Contains(queues!, q => q.Queue == queue && q.ApproximatePoisonMessages == 3 && q.Function == "RecordsWork");
    }

    [Fact]
    public async Task Replaying_one_poison_message_puts_it_back_unchanged_and_the_function_processes_it()
    {
        var (app, queue, log, texts) = await AppWithPoisonAsync(3);
        await using var _ = app;
        var poison = Raw(PoisonQueueName.NameFor(queue));
        var target = (await poison.PeekMessagesAsync(32)).Value.Single(m => m.MessageText == texts[1]);

        var response = await app.Client.SendAsync(Admin(HttpMethod.Post, $"api/v1/admin/queues/{queue}/poison/{target.MessageId}/replay"));

        Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"{response.StatusCode}: {string.Join("\n", app.Logs.Entries.Where(e => e.Exception is not null).Select(e => e.Exception!.ToString()))}");
        await Eventually.HoldsAsync(async () => (await log.ReadAsync()).Count > 0, "the replayed message was processed");
        Assert.Equal(("p-1", 1), (Assert.Single(log.Runs).Id, Assert.Single(log.Runs).Size));
        var left = (await poison.PeekMessagesAsync(32)).Value.Select(m => m.MessageText).Order().ToArray();
        Assert.Equal(new[] { texts[0], texts[2] }.Order().ToArray(), left);
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 5001 && e.Message.Contains("replay-poison", StringComparison.Ordinal) && e.Message.Contains("by master", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Replaying_to_a_queue_that_does_not_exist_yet_creates_it_and_the_function_processes_the_message()
    {
        var (app, queue, log, texts) = await AppWithPoisonAsync(1);
        await using var _ = app;
        // As when the replay comes before the function's listener has created its queue.
        await new QueueClient(storage.ConnectionString, queue).DeleteIfExistsAsync();
        var target = (await Raw(PoisonQueueName.NameFor(queue)).PeekMessagesAsync(1)).Value.Single();

        var one = await app.Client.SendAsync(Admin(HttpMethod.Post, $"api/v1/admin/queues/{queue}/poison/{target.MessageId}/replay"));

        Assert.Equal(HttpStatusCode.NoContent, one.StatusCode);
        await Eventually.HoldsAsync(async () => (await log.ReadAsync()).Count > 0, "the replayed message was processed");
        Assert.Equal(texts[0], Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($$"""{"id":"{{Assert.Single(log.Runs).Id}}","size":0}""")));
    }

    [Fact]
    public async Task Replaying_all_poison_messages_empties_the_poison_queue_and_each_is_processed_once()
    {
        var (app, queue, log, _) = await AppWithPoisonAsync(40);
        await using var _ = app;

        var response = await app.Client.SendAsync(Admin(HttpMethod.Post, $"api/v1/admin/queues/{queue}/poison/replay"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(40, (await response.Content.ReadFromJsonAsync<ReplayResult>())!.Replayed);
        await Eventually.HoldsAsync(async () => (await log.ReadAsync()).Count >= 40, "all replayed messages were processed");
        Assert.Equal(40, log.Runs.Select(r => r.Id).Distinct().Count());
        Assert.Empty((await Raw(PoisonQueueName.NameFor(queue)).PeekMessagesAsync(1)).Value);
    }

    [Fact]
    public async Task Deleting_a_poison_message_removes_only_that_one_and_it_is_not_processed()
    {
        var (app, queue, log, texts) = await AppWithPoisonAsync(2);
        await using var _ = app;
        var poison = Raw(PoisonQueueName.NameFor(queue));
        var doomed = (await poison.PeekMessagesAsync(32)).Value.Single(m => m.MessageText == texts[0]);

        var response = await app.Client.SendAsync(Admin(HttpMethod.Delete, $"api/v1/admin/queues/{queue}/poison/{doomed.MessageId}"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal([texts[1]], (await poison.PeekMessagesAsync(32)).Value.Select(m => m.MessageText).ToArray());
        Assert.Empty(await log.ReadAsync());
    }

    [Fact]
    public async Task An_unknown_queue_or_message_is_a_404_problem_and_nothing_changes()
    {
        var (app, queue, _, texts) = await AppWithPoisonAsync(1);
        await using var _ = app;

        var unknownQueue = await app.Client.SendAsync(Admin(HttpMethod.Get, "api/v1/admin/queues/not-a-function-queue/poison"));
        var unknownMessage = await app.Client.SendAsync(Admin(HttpMethod.Post, $"api/v1/admin/queues/{queue}/poison/{Guid.NewGuid()}/replay"));

        Assert.Equal(HttpStatusCode.NotFound, unknownQueue.StatusCode);
        Assert.Equal("application/problem+json", unknownQueue.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, unknownMessage.StatusCode);
        Assert.Equal([texts[0]], (await Raw(PoisonQueueName.NameFor(queue)).PeekMessagesAsync(32)).Value.Select(m => m.MessageText).ToArray());
    }

    /// <summary>What the test app's RecordsWork function recorded on its done queue: one line per processed message.</summary>
    private sealed class WorkLog(QueueClient done)
    {
        private readonly List<WorkRun> runs = [];

        public IReadOnlyList<WorkRun> Runs => runs;

        /// <summary>Takes what was recorded since the last read; returns every run so far.</summary>
        public async Task<IReadOnlyList<WorkRun>> ReadAsync()
        {
            while ((await done.ReceiveMessagesAsync(32)).Value is { Length: > 0 } messages)
            {
                foreach (var message in messages)
                {
                    var parts = message.Body.ToString().Split(':');
                    runs.Add(new WorkRun(parts[0], int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)));
                    await done.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                }
            }

            return runs;
        }
    }

    private sealed record WorkRun(string Id, int Size);
}
