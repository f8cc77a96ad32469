using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Operations;

/// <summary><c>GET /api/v1/admin/queues/{queue}/poison</c>: the messages that failed maxDequeueCount times.</summary>
public sealed class ListPoisonMessages(PoisonQueues poisonQueues, AdminAudit audit)
{
    [EndpointSummary("Poison messages of a queue")]
    [EndpointDescription("Admin. The approximate number of messages in {queue}-poison and the first 32 of them (id, times, dequeue count, body).")]
    [Function(nameof(ListPoisonMessages))]
    public async Task<Results<Ok<PoisonMessageList>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Admin, "get", Route = "v1/admin/queues/{queue}/poison")] HttpRequest request, string queue, CancellationToken cancellationToken)
    {
        if (poisonQueues.Find(queue) is not { } monitored)
        {
            await audit.RecordAsync(request.HttpContext, "list-poison", queue, "unknown queue");
            return QueueProblems.UnknownQueue(queue);
        }

        var list = await poisonQueues.PeekAsync(monitored, cancellationToken);
        await audit.RecordAsync(request.HttpContext, "list-poison", monitored.PoisonQueue, $"{list.ApproximateCount} messages");
        return TypedResults.Ok(list);
    }
}
