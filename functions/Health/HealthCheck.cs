using DecentCloud.Shared;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Health;

/// <summary>
/// <c>GET /api/health</c>: 200 <c>healthy</c> when storage answers, 200 <c>degraded</c> when it does but a money queue's
/// poison copy holds messages (named in <c>poisoned</c>), 503 <c>unhealthy</c> when storage does not answer; with the
/// app's version always.
/// </summary>
public sealed class HealthCheck(StorageProbe storage, PoisonWatch poison)
{
    [EndpointSummary("Health of the app and its storage")]
    [EndpointDescription("Anonymous. 200 healthy when every storage service (tables, blobs, queues) answers; 200 degraded when they do but the poison "
        + "queue of a money queue (Stripe events, invoices, receipts) holds messages, each named in poisoned; 503 unhealthy when a storage service "
        + "does not answer. Reports the app's version.")]
    [Function(nameof(HealthCheck))]
    public async Task<Results<Ok<HealthReport>, JsonHttpResult<HealthReport>>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request, CancellationToken cancellationToken)
    {
        var health = await storage.CheckAsync(cancellationToken);
        if (!health.Reachable)
        {
            return TypedResults.Json(new HealthReport("unhealthy", BuildInfo.Version, health, []), statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        var poisoned = await poison.PoisonedAsync(cancellationToken);
        return TypedResults.Ok(new HealthReport(poisoned.Count == 0 ? "healthy" : "degraded", BuildInfo.Version, health, poisoned));
    }
}

public sealed record HealthReport(string Status, string Version, StorageHealth Storage, IReadOnlyList<PoisonReport> Poisoned);
