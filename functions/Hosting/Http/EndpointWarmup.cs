namespace DecentCloud.Functions.Hosting.Http;

/// <summary>
/// Builds the HTTP functions' endpoints (their request delegates are compiled on first use) in the
/// background as the host starts, instead of inside the first request.
/// </summary>
internal sealed class EndpointWarmup(EndpointDataSource endpoints) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        _ = endpoints.Endpoints.Count;
    }
}
