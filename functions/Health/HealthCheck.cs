using DecentCloud.Shared;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Health;

/// <summary><c>GET /api/health</c>: 200 when storage answers, 503 when it does not, with the app's version either way.</summary>
public sealed class HealthCheck(StorageProbe storage)
{
    [EndpointSummary("Health of the app and its storage")]
    [EndpointDescription("Anonymous. 200 when every storage service (tables, blobs, queues) answers, 503 when one does not. Reports the app's version.")]
    public async Task<Results<Ok<HealthReport>, JsonHttpResult<HealthReport>>> Run(CancellationToken cancellationToken)
    {
        var health = await storage.CheckAsync(cancellationToken);
        var report = new HealthReport(health.Reachable ? "healthy" : "unhealthy", BuildInfo.Version, health);
        return health.Reachable
            ? TypedResults.Ok(report)
            : TypedResults.Json(report, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}

public sealed record HealthReport(string Status, string Version, StorageHealth Storage);
