using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Operations;

/// <summary><c>POST /api/v1/admin/queues/{queue}/poison/replay</c>: every poison message back on its queue.</summary>
public sealed class ReplayPoisonMessages(PoisonQueues poisonQueues, AdminAudit audit)
{
    [EndpointSummary("Replay all poison messages of a queue")]
    [EndpointDescription("Admin. Moves up to 5000 messages from {queue}-poison back to {queue}, unchanged, and says how many remain.")]
    [Function(nameof(ReplayPoisonMessages))]
    public async Task<Results<Ok<ReplayResult>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Admin, "post", Route = "v1/admin/queues/{queue}/poison/replay")] HttpRequest request, string queue, CancellationToken cancellationToken)
    {
        if (poisonQueues.Find(queue) is not { } monitored)
        {
            await audit.RecordAsync(request.HttpContext, "replay-all-poison", queue, "unknown queue");
            return QueueProblems.UnknownQueue(queue);
        }

        var result = await poisonQueues.ReplayAllAsync(monitored, cancellationToken);
        await audit.RecordAsync(request.HttpContext, "replay-all-poison", monitored.PoisonQueue, $"{result.Replayed} replayed to {monitored.Queue}, about {result.ApproximateRemaining} remain");
        return TypedResults.Ok(result);
    }
}
