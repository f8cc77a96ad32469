using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Operations;

/// <summary><c>GET /api/v1/admin/queues</c>: each queue function's queue and poison queue with their lengths.</summary>
public sealed class ListQueues(PoisonQueues poisonQueues, AdminAudit audit)
{
    [EndpointSummary("Queues and poison queues")]
    [EndpointDescription("Admin. Every queue function with the approximate length of its queue and of its poison queue.")]
    [Function(nameof(ListQueues))]
    public async Task<Ok<IReadOnlyList<QueueCounts>>> Run([HttpTrigger(AuthorizationLevel.Admin, "get", Route = "v1/admin/queues")] HttpRequest request, CancellationToken cancellationToken)
    {
        var counts = new List<QueueCounts>();
        foreach (var queue in poisonQueues.Monitored())
        {
            counts.Add(await poisonQueues.CountAsync(queue, cancellationToken));
        }

        await audit.RecordAsync(request.HttpContext, "list-queues", "all queues", $"{counts.Count} queues");
        return TypedResults.Ok<IReadOnlyList<QueueCounts>>(counts);
    }
}
