using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Operations;

/// <summary><c>POST /api/v1/admin/queues/{queue}/poison/{messageId}/replay</c>: one poison message back on its queue, unchanged.</summary>
public sealed class ReplayPoisonMessage(PoisonQueues poisonQueues, AdminAudit audit)
{
    [EndpointSummary("Replay one poison message")]
    [EndpointDescription("Admin. Moves the message back to {queue} with its content unchanged; its dequeue count starts again.")]
    [Function(nameof(ReplayPoisonMessage))]
    public async Task<Results<NoContent, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Admin, "post", Route = "v1/admin/queues/{queue}/poison/{messageId}/replay")] HttpRequest request, string queue, string messageId, CancellationToken cancellationToken)
    {
        if (poisonQueues.Find(queue) is not { } monitored)
        {
            await audit.RecordAsync(request.HttpContext, "replay-poison", queue, "unknown queue");
            return QueueProblems.UnknownQueue(queue);
        }

        if (!await poisonQueues.ReplayAsync(monitored, messageId, cancellationToken))
        {
            await audit.RecordAsync(request.HttpContext, "replay-poison", $"{monitored.PoisonQueue}/{messageId}", "no such message");
            return QueueProblems.UnknownMessage(monitored.PoisonQueue, messageId);
        }

        await audit.RecordAsync(request.HttpContext, "replay-poison", $"{monitored.PoisonQueue}/{messageId}", $"replayed to {monitored.Queue}");
        return TypedResults.NoContent();
    }
}
