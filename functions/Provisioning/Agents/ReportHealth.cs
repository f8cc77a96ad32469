using System.Text;
using System.Text.Json;
using DecentCloud.Functions.Identity.Delegations;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Platform.Http;
using DecentCloud.Functions.Provisioning.Health;
using DecentCloud.Shared.Signing;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask.Client;

namespace DecentCloud.Functions.Provisioning.Agents;

/// <summary>
/// <c>POST /api/v1/providers/{pubkey}/contracts/{id}/health</c>, an agent with <c>health_check</c>: one health check of
/// the contract's instance, kept raw with its signature (<c>ContractHealth</c>), then <c>HealthReported</c> is raised.
/// </summary>
public sealed class ReportHealth(ProvisioningStore store, HealthStore health, ContractLifecycleSignal signal, TimeProvider time)
{
    private static readonly TimeSpan MaxAhead = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MaxAge = TimeSpan.FromDays(7);

    [EndpointSummary("Report a health check")]
    [EndpointDescription("Agent with health_check. Body { checkedAt, status: healthy|unhealthy|unknown, latencyMs?, details? } (at most 16 KB; checkedAt at most 5 minutes ahead, 7 days old). "
        + "202; kept raw with its signature headers. 409 noInstance before an instance was reported, state unless provisioning, provisioned, active or paused; 404 for another provider's contract.")]
    [JsonBody(typeof(HealthReport))]
    [Function(nameof(ReportHealth))]
    [Agent(AgentPermission.HealthCheck)]
    public async Task<Results<Accepted<ReportAccepted>, ValidationProblem, ProblemHttpResult>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/providers/{pubkey}/contracts/{id}/health")] HttpRequest request,
        string pubkey,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        var caller = AgentCaller.Of(request.HttpContext);

        // The signature check left the verified bytes as a seekable body: read them as the function's body, then again as they were signed.
        request.EnableBuffering();
        var report = await JsonBodies.ReadAsync<HealthReport>(request, cancellationToken);
        request.Body.Position = 0;
        var body = await new StreamReader(request.Body, Encoding.UTF8).ReadToEndAsync(cancellationToken);
        var now = time.GetUtcNow();
        var errors = Validate(report, body, now);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Health report not valid");
        }

        if (await AgentScope.ContractAsync(store, caller, id, cancellationToken) is not { } contract)
        {
            return ProvisioningProblems.UnknownContract(id);
        }

        if (contract.CurrentState is not (ContractState.Provisioning or ContractState.Provisioned or ContractState.Active or ContractState.Paused))
        {
            return ProvisioningProblems.WrongState(contract.State, "provisioning, provisioned, active or paused");
        }

        if (await store.InstanceAsync(contract.PartitionKey, cancellationToken) is null)
        {
            return ProvisioningProblems.NoInstance();
        }

        var headers = request.Headers;
        var row = new HealthReportRow
        {
            PartitionKey = ProvisioningKeys.Day(contract.PartitionKey, now),
            RowKey = ProvisioningKeys.Inverted(now) + "-" + headers[SignatureHeaders.NonceHeader],
            ContractId = contract.PartitionKey,
            ProviderKey = contract.ProviderKey,
            AgentKey = caller.AgentKeyHex,
            Status = report!.Status!,
            CheckedAt = report.CheckedAt!.Value,
            ReceivedAt = now,
            LatencyMs = report.LatencyMs,
            Details = report.Details is { ValueKind: not JsonValueKind.Null } details ? details.GetRawText() : null,
            Body = body,
            Method = request.Method,
            Target = request.HttpContext.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget,
            XPublicKey = headers[SignatureHeaders.PublicKeyHeader].ToString(),
            XSignature = headers[SignatureHeaders.SignatureHeader].ToString(),
            XTimestamp = headers[SignatureHeaders.TimestampHeader].ToString(),
            XNonce = headers[SignatureHeaders.NonceHeader].ToString(),
            XAgentPubkey = headers[AgentCaller.AgentHeader].ToString(),
        };
        await health.AddReportAsync(row, cancellationToken);
        await signal.RaiseAsync(client, contract.PartitionKey, ContractLifecycleEvents.HealthReported, new HealthReportedSignal(row.Status, row.CheckedAt), cancellationToken);
        return TypedResults.Accepted($"/api/v1/contracts/{contract.PartitionKey}/health", new ReportAccepted(contract.PartitionKey, row.Status));
    }

    private static Dictionary<string, string[]> Validate(HealthReport? report, string body, DateTimeOffset now)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (report is null)
        {
            errors["body"] = ["A JSON health report is required."];
            return errors;
        }

        if (Encoding.UTF8.GetByteCount(body) > HealthReport.MaxBodyBytes)
        {
            errors["body"] = [$"A health report is at most {HealthReport.MaxBodyBytes} bytes."];
        }

        if (report.CheckedAt is not { } checkedAt || checkedAt > now + MaxAhead || checkedAt < now - MaxAge)
        {
            errors["checkedAt"] = ["checkedAt is required: when the check ran, at most 5 minutes ahead of the server's clock and 7 days old."];
        }

        if (!HealthStatus.IsKnown(report.Status))
        {
            errors["status"] = ["status is healthy, unhealthy or unknown."];
        }

        if (report.LatencyMs is < 0)
        {
            errors["latencyMs"] = ["latencyMs is 0 or more."];
        }

        if (report.Details is { } details && details.ValueKind != JsonValueKind.Null && details.GetRawText().Length > HealthReport.MaxDetailsLength)
        {
            errors["details"] = [$"details is at most {HealthReport.MaxDetailsLength} characters of JSON."];
        }

        return errors;
    }
}
