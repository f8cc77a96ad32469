using DecentCloud.Shared;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DecentCloud.Agent;

/// <summary>
/// The agent's poll loop. Provisioning is not written yet (docs/agent.md, "What is coming"):
/// each poll interval it says so instead of pretending to work.
/// </summary>
internal sealed class AgentLoop(IOptions<AgentOptions> options, TimeProvider time, ILogger<AgentLoop> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        AgentLog.Started(logger, BuildInfo.Version, settings.ApiBaseUrl,
            settings.PollIntervalSeconds, settings.HeartbeatIntervalSeconds, settings.HealthCheckIntervalSeconds);

        using var poll = new PeriodicTimer(settings.PollInterval, time);
        try
        {
            do
            {
                AgentLog.NoProvisionersConfigured(logger, settings.ApiBaseUrl);
            }
            while (await poll.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Ctrl-C, SIGTERM or the host stopping: the normal way out of the loop.
        }

        AgentLog.Stopped(logger);
    }
}
