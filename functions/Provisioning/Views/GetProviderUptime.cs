using DecentCloud.Functions.Platform.Http;
using DecentCloud.Functions.Provisioning.Health;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Provisioning.Views;

public sealed record ContractUptimeView(string ContractId, ProbeFigures Probes, ReportFigures AgentReports);

public sealed record ProviderUptimeView(int Days, ProbeFigures Probes, ReportFigures AgentReports, IReadOnlyList<ContractUptimeView> Contracts);

/// <summary>
/// <c>GET /api/v1/providers/{pubkey}/uptime?days=30</c>, public: the uptime of the provider's instances over the window,
/// from the platform's probes, with the agents' reports beside it and the number of checks behind each figure.
/// </summary>
public sealed class GetProviderUptime(ProvisioningStore store, HealthStore health, TimeProvider time)
{
    public const int DefaultDays = 30;
    public const int MaxDays = 90;

    [EndpointSummary("A provider's uptime")]
    [EndpointDescription("Anonymous. ?days=1..90 (default 30). { days, probes: { checks, up, uptimePercent, refused }, agentReports: { checks, healthy, unknown, uptimePercent }, contracts: [{ contractId, probes, agentReports }] } "
        + "over the provider's instances that ran in the window; uptimePercent is null without checks; refused counts probes not made because the address is not public.")]
    [Function(nameof(GetProviderUptime))]
    public async Task<Results<Ok<ProviderUptimeView>, ValidationProblem>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/providers/{pubkey}/uptime")] HttpRequest request, string pubkey, CancellationToken cancellationToken)
    {
        var days = QueryValues.WholeNumber(request, "days") ?? DefaultDays;
        if (days is < 1 or > MaxDays)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["days"] = [$"days is 1 to {MaxDays}."] }, title: "Uptime request not valid");
        }

        var now = time.GetUtcNow();
        var since = now.AddDays(-days);
        var instances = (await store.InstancesOfProviderAsync(pubkey.ToLowerInvariant(), cancellationToken))
            .Where(i => i.RecordedAt <= now && (i.TerminatedAt is null || i.TerminatedAt >= since));
        var contracts = await Task.WhenAll(instances.Select(async instance => new ContractUptimeView(
            instance.ContractId,
            UptimeFigures.Of(await health.ProbesAsync(instance.ContractId, since, now, cancellationToken), since),
            UptimeFigures.Of(await health.ReportsAsync(instance.ContractId, since, now, cancellationToken), since))));

        return TypedResults.Ok(new ProviderUptimeView(
            days,
            UptimeFigures.Sum(contracts.Select(c => c.Probes)),
            UptimeFigures.Sum(contracts.Select(c => c.AgentReports)),
            contracts.OrderBy(c => c.ContractId, StringComparer.Ordinal).ToList()));
    }
}
