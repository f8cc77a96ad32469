using System.Text.Json;
using DecentCloud.Functions.Identity;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Provisioning.Health;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Provisioning.Views;

public sealed record HealthCheckView(DateTimeOffset CheckedAt, DateTimeOffset ReceivedAt, string Status, int? LatencyMs, JsonElement? Details, string AgentPubkey);

public sealed record ProbeView(DateTimeOffset At, bool Up, int LatencyMs, string? Error, string? Refused);

public sealed record UptimeView(int Days, ProbeFigures Probes, ReportFigures AgentReports);

public sealed record ContractHealthView(string ContractId, IReadOnlyList<HealthCheckView> Checks, IReadOnlyList<ProbeView> Probes, UptimeView Uptime);

/// <summary><c>GET /api/v1/contracts/{id}/health</c>, signed by the renter or the provider: recent checks, the platform's probes and the contract's uptime.</summary>
public sealed class GetContractHealth(ProvisioningStore store, HealthStore health, TimeProvider time)
{
    public const int Days = 30;
    public const int Recent = 100;

    [EndpointSummary("A contract's health and uptime")]
    [EndpointDescription("Signed by the contract's renter or provider (403 otherwise; 404 for an unknown contract). The agents' last 100 checks and the platform's last 100 probes, "
        + "newest first, and the uptime of the last 30 days with the number of checks behind each figure.")]
    [Function(nameof(GetContractHealth))]
    [Signed]
    public async Task<Results<Ok<ContractHealthView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/contracts/{id}/health")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        if (await store.ContractAsync(id, cancellationToken) is not { } contract)
        {
            return ContractProblems.NotFound(id);
        }

        var caller = SignedCaller.Of(request.HttpContext);
        if (!caller.Is(contract.RenterKey) && !caller.Is(contract.ProviderKey))
        {
            return ContractProblems.NotAParty();
        }

        var now = time.GetUtcNow();
        var since = now.AddDays(-Days);
        var reports = await health.ReportsAsync(contract.PartitionKey, since, now, cancellationToken);
        var probes = await health.ProbesAsync(contract.PartitionKey, since, now, cancellationToken);
        return TypedResults.Ok(new ContractHealthView(
            contract.PartitionKey,
            reports.OrderByDescending(r => r.ReceivedAt).Take(Recent)
                .Select(r => new HealthCheckView(r.CheckedAt, r.ReceivedAt, r.Status, r.LatencyMs, r.Details is null ? null : JsonDocument.Parse(r.Details).RootElement.Clone(), r.AgentKey)).ToList(),
            probes.OrderByDescending(p => p.At).Take(Recent).Select(p => new ProbeView(p.At, p.Up, p.LatencyMs, p.Error, p.Refused)).ToList(),
            new UptimeView(Days, UptimeFigures.Of(probes, since), UptimeFigures.Of(reports, since))));
    }
}
