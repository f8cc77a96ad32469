using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Operations;

/// <summary><c>DELETE /api/v1/admin/queues/{queue}/poison/{messageId}</c>: drops one poison message for good.</summary>
public sealed class DeletePoisonMessage(PoisonQueues poisonQueues, AdminAudit audit)
{
    [EndpointSummary("Delete one poison message")]
    [EndpointDescription("Admin. Removes the message from {queue}-poison; it is not processed.")]
    [Function(nameof(DeletePoisonMessage))]
    public async Task<Results<NoContent, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Admin, "delete", Route = "v1/admin/queues/{queue}/poison/{messageId}")] HttpRequest request, string queue, string messageId, CancellationToken cancellationToken)
    {
        if (poisonQueues.Find(queue) is not { } monitored)
        {
            await audit.RecordAsync(request.HttpContext, "delete-poison", queue, "unknown queue");
            return QueueProblems.UnknownQueue(queue);
        }

        if (!await poisonQueues.DeleteAsync(monitored, messageId, cancellationToken))
        {
            await audit.RecordAsync(request.HttpContext, "delete-poison", $"{monitored.PoisonQueue}/{messageId}", "no such message");
            return QueueProblems.UnknownMessage(monitored.PoisonQueue, messageId);
        }

        await audit.RecordAsync(request.HttpContext, "delete-poison", $"{monitored.PoisonQueue}/{messageId}", "deleted");
        return TypedResults.NoContent();
    }
}
