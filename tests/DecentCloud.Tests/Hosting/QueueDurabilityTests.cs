using System.Collections.Concurrent;
using System.Net;
using Azure.Core.Pipeline;
using Azure.Storage.Queues;
using DecentCloud.Functions.Platform.Queues;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Hosting;

/// <summary>Fails while <see cref="DurabilitySwitch.Failing"/> is set; records the expiry of every message it sees.</summary>
public sealed class FailsWhileSwitchedOn(DurabilitySwitch state, QueueMessageContext context) : IQueueFunction<WorkItem>
{
    public Task Run(WorkItem message, CancellationToken cancellationToken)
    {
        state.Seen.Enqueue((message.Id, context.ExpiresOn, context.InsertedOn));
        return state.Failing ? throw new InvalidOperationException($"work item {message.Id} fails while switched on") : Task.CompletedTask;
    }
}

public sealed class DurabilitySwitch
{
    private volatile bool failing = true;

    public bool Failing
    {
        get => failing;
        set => failing = value;
    }

    public ConcurrentQueue<(string Id, DateTimeOffset? ExpiresOn, DateTimeOffset? InsertedOn)> Seen { get; } = new();
}

/// <summary>What a message's copies keep, and how the writer recovers from a failed first send.</summary>
public sealed class QueueDurabilityTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    /// <summary>Storage reports a never-expiring message as expiring on 31 December 9999.</summary>
    private static readonly DateTimeOffset NeverExpires = new(9999, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private QueueClient Raw(string name) =>
        new(storage.ConnectionString, name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    [Fact]
    public async Task A_never_expiring_message_stays_never_expiring_in_the_poison_queue_and_when_an_admin_replays_it()
    {
        var queue = TestFunctionApp.UniqueQueueName("forever");
        var state = new DurabilitySwitch();
        await using var app = await TestFunctionApp.StartAsync(storage.ConnectionString, configure: builder =>
        {
            builder.Services.AddSingleton(state);
            builder.Functions.Queue<FailsWhileSwitchedOn, WorkItem>(queue);
        });
        var writer = app.Services.GetRequiredService<QueueWriter>();
        await writer.SendSerializedAsync(queue, BinaryData.FromString("""{"id":"w-forever","size":1}"""), QueueWriter.Forever);
        await writer.SendSerializedAsync(queue, BinaryData.FromString("""{"id":"w-hour","size":2}"""), TimeSpan.FromHours(1));

        var poison = Raw(PoisonQueueName.NameFor(queue));
        // The listener creates it in the background as it starts; the test may look first.
        await poison.CreateIfNotExistsAsync();
        await Eventually.HoldsAsync(async () => (await poison.PeekMessagesAsync(32)).Value.Length == 2, "both messages are in the poison queue");

        var copies = (await poison.PeekMessagesAsync(32)).Value.ToDictionary(m => m.Body.ToObjectFromJson<WorkItem>(QueueJson.Options)!.Id);
        // Eight days on, the payment event a message like this carries is still there to replay (the storage default would be 7).
        Assert.True(copies["w-forever"].ExpiresOn >= NeverExpires, $"the poison copy expires on {copies["w-forever"].ExpiresOn}");
        var lifetime = copies["w-hour"].ExpiresOn!.Value - copies["w-hour"].InsertedOn!.Value;
        Assert.InRange(lifetime, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(61));

        state.Failing = false;
        var replay = new HttpRequestMessage(HttpMethod.Post, $"api/v1/admin/queues/{queue}/poison/{copies["w-forever"].MessageId}/replay");
        replay.Headers.Add("x-functions-key", TestKeys.Master);
        Assert.Equal(HttpStatusCode.NoContent, (await app.Client.SendAsync(replay)).StatusCode);

        // Three failed runs before the poison queue, one after the replay.
        await Eventually.HoldsAsync(() => state.Seen.Count(s => s.Id == "w-forever") == 4, "the replayed message ran");
        Assert.All(state.Seen.Where(s => s.Id == "w-forever"), s => Assert.True(s.ExpiresOn >= NeverExpires, $"a run saw the message expire on {s.ExpiresOn}"));
    }

    [Fact]
    public async Task A_failed_first_send_is_not_remembered_and_the_next_send_creates_the_queue()
    {
        var blip = new BlipHandler(failures: 1) { InnerHandler = new SocketsHttpHandler() };
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64, Transport = new HttpClientTransport(new HttpClient(blip)) };
        options.Retry.MaxRetries = 0;
        var writer = new QueueWriter(new QueueServiceClient(storage.ConnectionString, options));
        var queue = TestFunctionApp.UniqueQueueName("blip");

        var first = await Assert.ThrowsAsync<InvalidOperationException>(() => writer.SendAsync(queue, new WorkItem("w-1", 1)));
        Assert.Contains(queue, first.Message, StringComparison.Ordinal);
        Assert.NotNull(first.InnerException);

        await writer.SendAsync(queue, new WorkItem("w-2", 2));

        var messages = (await Raw(queue).PeekMessagesAsync(32)).Value;
        Assert.Equal(["w-2"], messages.Select(m => m.Body.ToObjectFromJson<WorkItem>(QueueJson.Options)!.Id).ToArray());
    }

    /// <summary>The connection drops on the first <c>failures</c> requests, as on a network blip: no storage error, an I/O one.</summary>
    private sealed class BlipHandler(int failures) : DelegatingHandler
    {
        private int left = failures;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Interlocked.Decrement(ref left) >= 0
                ? Task.FromException<HttpResponseMessage>(new IOException("Unable to read data from the transport connection: Connection reset by peer."))
                : base.SendAsync(request, cancellationToken);
    }
}
