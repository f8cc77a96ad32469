using DecentCloud.Agent.Api;
using DecentCloud.Shared;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DecentCloud.Agent;

/// <summary>
/// <c>dc-agent run</c>: the poll, heartbeat, health-check and reconcile jobs on their own schedules, on one thread so
/// they never race on the state file. Intervals start from the settings and follow the platform's suggestions (the
/// heartbeat's answer, the poll's <c>pollAfterSeconds</c>); a job whose API call fails backs off exponentially.
/// </summary>
internal sealed class AgentLoop(AgentWorker worker, AgentIdentity identity, IOptions<AgentOptions> options, TimeProvider time, ILogger<AgentLoop> logger) : BackgroundService
{
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        AgentLog.Started(logger, BuildInfo.Version, identity.AgentPubkey, settings.ProviderPubkey, settings.ApiBaseUrl, worker.Provisioners.Names,
            settings.PollIntervalSeconds, settings.HeartbeatIntervalSeconds, settings.HealthCheckIntervalSeconds);

        var now = time.GetUtcNow();
        var poll = new Job("Poll", settings.PollInterval, now);
        var heartbeat = new Job("Heartbeat", settings.HeartbeatInterval, now);
        var reconcile = new Job("Reconcile", settings.HealthCheckInterval, now);
        var health = new Job("Health checks", settings.HealthCheckInterval, now + settings.HealthCheckInterval);
        Job[] jobs = [heartbeat, poll, reconcile, health];

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var due = jobs.Min(job => job.Due);
                var wait = due - time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, stoppingToken);
                }

                foreach (var job in jobs.Where(job => job.Due <= time.GetUtcNow()))
                {
                    if (job == heartbeat)
                    {
                        await RunAsync(job, async () =>
                        {
                            var answer = await worker.HeartbeatAsync(stoppingToken);
                            poll.Interval = Seconds(answer.PollSeconds, 1, 3600, poll.Interval);
                            heartbeat.Interval = Seconds(answer.HeartbeatSeconds, 1, 299, heartbeat.Interval);
                            health.Interval = Seconds(answer.HealthCheckSeconds, 1, 86400, health.Interval);
                            reconcile.Interval = health.Interval;
                            foreach (var other in jobs.Where(other => other != heartbeat))
                            {
                                // A shorter interval takes effect now, not after the longer wait already planned.
                                other.Due = Min(other.Due, time.GetUtcNow() + other.Interval);
                            }
                            return null;
                        }, stoppingToken);
                    }
                    else if (job == poll)
                    {
                        await RunAsync(job, async () => await worker.PollAsync(stoppingToken) is { } after and > 0 ? TimeSpan.FromSeconds(Math.Min(after, 3600)) : null, stoppingToken);
                    }
                    else if (job == health)
                    {
                        await RunAsync(job, async () => { await worker.CheckHealthAsync(stoppingToken); return null; }, stoppingToken);
                    }
                    else
                    {
                        await RunAsync(job, async () => { await worker.ReconcileAsync(stoppingToken); return null; }, stoppingToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Ctrl-C, SIGTERM or the host stopping: the normal way out. A step in flight was cancelled between two
            // writes of the state file, so the next start continues from the last one.
        }

        AgentLog.Stopped(logger);
    }

    private async Task RunAsync(Job job, Func<Task<TimeSpan?>> run, CancellationToken stoppingToken)
    {
        try
        {
            var next = await run();
            if (job.Failures > 0)
            {
                AgentLog.TaskRecovered(logger, job.Name, job.Failures);
            }
            job.Failures = 0;
            job.Due = time.GetUtcNow() + (next ?? job.Interval);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested && (ex is AgentApiException || IsInfrastructureFailure(ex)))
        {
            // Unreachable API, a server error, or a refusal (revoked delegation, wrong provider); or the provider's own
            // infrastructure failing under a job that is not one contract's (Docker down while listing for reconcile):
            // the agent keeps going and tries again later, further apart each time, so a provider can fix the cause
            // without a restart.
            job.Failures++;
            var retry = Backoff(job.Interval, job.Failures);
            job.Due = time.GetUtcNow() + retry;
            AgentLog.TaskFailed(logger, job.Name, job.Failures, (int)retry.TotalSeconds, ex.Message, ex);
        }
    }

    /// <summary>
    /// How provisioners report that their infrastructure failed: its API refused (an <see cref="InvalidOperationException"/>
    /// keeping the API's own message), could not be reached (<see cref="HttpRequestException"/>, <see cref="IOException"/>)
    /// or did not answer in time (<see cref="TimeoutException"/>), as the per-contract steps' guard in AgentWorker treats them.
    /// </summary>
    private static bool IsInfrastructureFailure(Exception ex) =>
        ex is InvalidOperationException or HttpRequestException or TimeoutException or IOException;

    /// <summary>The interval doubled for each failure in a row, at most <see cref="MaxBackoff"/>.</summary>
    public static TimeSpan Backoff(TimeSpan interval, int failures)
    {
        var factor = Math.Pow(2, Math.Min(failures, 16));
        var seconds = Math.Min(interval.TotalSeconds * factor, MaxBackoff.TotalSeconds);
        return TimeSpan.FromSeconds(Math.Max(seconds, Math.Min(interval.TotalSeconds, MaxBackoff.TotalSeconds)));
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static TimeSpan Seconds(int suggested, int min, int max, TimeSpan current) =>
        suggested >= min && suggested <= max ? TimeSpan.FromSeconds(suggested) : current;

    private sealed class Job(string name, TimeSpan interval, DateTimeOffset due)
    {
        public string Name { get; } = name;
        public TimeSpan Interval { get; set; } = interval;
        public DateTimeOffset Due { get; set; } = due;
        public int Failures { get; set; }
    }
}
