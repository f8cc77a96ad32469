using DecentCloud.Functions.Identity.Delegations;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Provisioning.Agents;

/// <summary>
/// <c>POST /api/v1/providers/{pubkey}/contracts/{id}/provisioning</c>, an agent with <c>provision</c> and the contract's
/// live lock: records its progress (and for <c>provisioned</c> the instance with its sealed credentials), then raises
/// <c>ProvisioningReported</c>. The contract's state is moved by its orchestration, not here.
/// </summary>
public sealed class ReportProvisioning(ProvisioningStore store, ContractLifecycleSignal signal, IOptions<ProvisioningOptions> options, TimeProvider time)
{
    [EndpointSummary("Report provisioning progress")]
    [EndpointDescription("Agent with provision, holding the contract's live lock. Body { status: provisioning|provisioned|failed, message?, instance? }; instance is required with provisioned "
        + "and holds exactly { externalId, ipv4?, ipv6?, hostname?, sshPort, sshUser?, sealedCredentials: { version: 2, ephemeralPubkey, nonce, ciphertext, aad } }: any other member is refused 400, "
        + "and aad must be the contract id; addresses that are not public (loopback, private, link-local...) are refused 400 unless PROBE_ALLOW_PRIVATE_ADDRESSES. A provisioned report naming the instance already recorded is 202 again and records nothing new. 202; 409 noLock or lockHeld without the caller's live lease, notPaid, state unless accepted or provisioning; 404 for another provider's contract.")]
    [JsonBody(typeof(ProvisioningReport))]
    [Function(nameof(ReportProvisioning))]
    [Agent(AgentPermission.Provision)]
    public async Task<Results<Accepted<ReportAccepted>, ValidationProblem, ProblemHttpResult>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/providers/{pubkey}/contracts/{id}/provisioning")] HttpRequest request,
        string pubkey,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        var caller = AgentCaller.Of(request.HttpContext);

        var report = await JsonBodies.ReadAsync<ProvisioningReport>(request, cancellationToken);
        var errors = Validate(report, id.Trim().ToLowerInvariant(), options.Value.AllowPrivateAddresses);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Provisioning report not valid");
        }

        if (await AgentScope.ContractAsync(store, caller, id, cancellationToken) is not { } contract)
        {
            return ProvisioningProblems.UnknownContract(id);
        }

        var contractId = contract.PartitionKey;
        var accepted = TypedResults.Accepted($"/api/v1/contracts/{contractId}", new ReportAccepted(contractId, report!.Status!));
        if (!AgentScope.IsPaid(contract))
        {
            return ProvisioningProblems.NotPaid();
        }

        // Agents send a report again when they did not get its answer, and a report left pending (by `manual complete`, by
        // a crash) may be sent by two of the agent's processes: the instance it names is already recorded, so nothing is
        // recorded twice. Before the orchestration has moved on, the signal is raised again (the first raise may be the
        // step that failed); the orchestration reads the contract's rows on every signal, so one more changes nothing.
        if (report.Status == ProvisioningReport.Provisioned
            && await store.InstanceAsync(contractId, cancellationToken) is { } recorded && recorded.ExternalId == report.Instance!.ExternalId)
        {
            if (contract.CurrentState is ContractState.Provisioned or ContractState.Active or ContractState.Paused)
            {
                return accepted;
            }

            if (contract.CurrentState is ContractState.Accepted or ContractState.Provisioning && recorded.AgentKey == caller.AgentKeyHex)
            {
                await signal.RaiseAsync(client, contractId, ContractLifecycleEvents.ProvisioningReported, new ProvisioningReportedSignal(report.Status, report.Message), cancellationToken);
                return accepted;
            }
        }

        if (contract.CurrentState is not (ContractState.Accepted or ContractState.Provisioning))
        {
            return ProvisioningProblems.WrongState(contract.State, "accepted or provisioning");
        }

        var now = time.GetUtcNow();
        var lease = await store.LockAsync(contractId, cancellationToken);
        if (lease is null || !lease.IsLive(now))
        {
            return ProvisioningProblems.NoLock();
        }

        if (lease.AgentKey != caller.AgentKeyHex)
        {
            return ProvisioningProblems.LockHeld();
        }

        var row = new ProvisioningReportRow { PartitionKey = contractId, RowKey = ProvisioningReportRow.RowKeyFor(now), Status = report.Status!, Message = report.Message, AgentKey = caller.AgentKeyHex, At = now };
        var instance = report.Instance is { } reported ? ToRow(contractId, reported, caller.AgentKeyHex, now) : null;
        if (!await store.TryRecordReportAsync(lease, row, instance, contract.ProviderKey, cancellationToken))
        {
            return ProvisioningProblems.LockHeld();
        }

        await signal.RaiseAsync(client, contractId, ContractLifecycleEvents.ProvisioningReported, new ProvisioningReportedSignal(row.Status, row.Message), cancellationToken);
        return accepted;
    }

    private static Dictionary<string, string[]> Validate(ProvisioningReport? report, string contractId, bool allowPrivateAddresses)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (report is null)
        {
            errors["body"] = ["A JSON report is required."];
            return errors;
        }

        if (report.Status is not (ProvisioningReport.Provisioning or ProvisioningReport.Provisioned or ProvisioningReport.Failed))
        {
            errors["status"] = ["status is provisioning, provisioned or failed."];
        }

        if (report.Message?.Length > ProvisioningReport.MaxMessageLength)
        {
            errors["message"] = [$"message is at most {ProvisioningReport.MaxMessageLength} characters."];
        }

        if (report.Status == ProvisioningReport.Provisioned && report.Instance is null)
        {
            errors["instance"] = ["A provisioned report carries the instance."];
        }
        else if (report.Status != ProvisioningReport.Provisioned && report.Instance is not null)
        {
            errors["instance"] = ["Only a provisioned report carries an instance."];
        }
        else if (report.Instance is { } instance)
        {
            InstanceValidation.Check(instance, contractId, allowPrivateAddresses, errors);
        }

        return errors;
    }

    private static InstanceRow ToRow(string contractId, InstanceReport instance, string agentKey, DateTimeOffset now) => new()
    {
        PartitionKey = contractId,
        ExternalId = instance.ExternalId!,
        Ipv4 = instance.Ipv4,
        Ipv6 = instance.Ipv6,
        Hostname = instance.Hostname,
        SshPort = instance.SshPort!.Value,
        SshUser = instance.SshUser,
        SealedVersion = instance.SealedCredentials!.Version!.Value,
        SealedEphemeralPubkey = instance.SealedCredentials.EphemeralPubkey!,
        SealedNonce = instance.SealedCredentials.Nonce!,
        SealedCiphertext = instance.SealedCredentials.Ciphertext!,
        SealedAad = instance.SealedCredentials.Aad!,
        AgentKey = agentKey,
        RecordedAt = now,
    };
}
