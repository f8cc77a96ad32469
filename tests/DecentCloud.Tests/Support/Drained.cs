using Azure.Storage.Queues;

namespace DecentCloud.Tests.Support;

public static class Drained
{
    /// <summary>
    /// Waits until the queues hold no message, visible or in flight: a message being handled stays in its queue until its
    /// handler returns, so an empty queue means every piece of work it carried has finished.
    /// </summary>
    public static Task QueuesAsync(TestFunctionApp app, params string[] queues)
    {
        var service = app.Services.GetRequiredService<QueueServiceClient>();
        return Eventually.HoldsAsync(async () =>
        {
            foreach (var queue in queues)
            {
                var client = service.GetQueueClient(queue);
                if (await client.ExistsAsync() && (await client.GetPropertiesAsync()).Value.ApproximateMessagesCount > 0)
                {
                    return false;
                }
            }

            return true;
        }, $"the queues {string.Join(", ", queues)} are empty");
    }
}
