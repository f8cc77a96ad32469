using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using DecentCloud.Agent.Api;
using DecentCloud.Agent.Provisioners;
using DecentCloud.Agent.State;
using DecentCloud.Shared;
using DecentCloud.Shared.Sealing;
using Microsoft.Extensions.Logging;

namespace DecentCloud.Agent;

/// <summary>
/// One round of each of the agent's jobs: poll for work, heartbeat, health checks, reconcile. The order that makes a
/// restart safe is always lock → record in the state file → provision → record the result → report → record the
/// acknowledgement; a contract found in the state file with its report pending is reported, never provisioned again.
/// </summary>
internal sealed class AgentWorker(AgentApiClient api, AgentStateStore store, ProvisionerSet provisioners, TimeProvider time, ILogger logger)
{
    public ProvisionerSet Provisioners => provisioners;

    /// <summary>Polls for work and handles it; returns the platform's suggested seconds to the next poll, if it gave one.</summary>
    public async Task<int?> PollAsync(CancellationToken cancellationToken)
    {
        await SendPendingReportsAsync(cancellationToken);

        var pending = await api.GetPendingAsync(cancellationToken);
        AgentLog.Polled(logger, pending.Provision.Count, pending.Terminate.Count);

        var state = await store.ReadAsync(cancellationToken);
        foreach (var work in pending.Provision)
        {
            await Guard(work.ContractId, "provisioning", () => HandleProvisionWorkAsync(work, state.Contracts.GetValueOrDefault(work.ContractId), cancellationToken));
        }

        // A contract this agent was still working on that the platform no longer lists is not ours to finish any more.
        var listed = pending.Provision.Select(work => work.ContractId).ToHashSet(StringComparer.Ordinal);
        foreach (var record in state.Contracts.Values.Where(r => r.Phase is ContractPhase.Provisioning or ContractPhase.Waiting && !listed.Contains(r.ContractId)))
        {
            await store.RemoveAsync(record.ContractId, cancellationToken);
            AgentLog.Dropped(logger, record.ContractId, record.Phase);
        }

        foreach (var work in pending.Terminate)
        {
            await Guard(work.ContractId, "termination", () => TerminateAsync(work.ContractId, work.Instance?.ExternalId, "contract ended", cancellationToken));
        }

        return pending.PollAfterSeconds;
    }

    public async Task<HeartbeatAnswer> HeartbeatAsync(CancellationToken cancellationToken)
    {
        var state = await store.ReadAsync(cancellationToken);
        var active = state.Contracts.Values.Count(record => record.Phase is ContractPhase.Provisioned or ContractPhase.ReportPending);
        var resources = await CollectResourcesAsync(cancellationToken);
        var answer = await api.HeartbeatAsync(new Heartbeat(BuildInfo.Version, provisioners.Names, provisioners.Capabilities, active, resources), cancellationToken);
        var now = time.GetUtcNow();
        await store.UpdateAsync(s => s with { LastHeartbeatAt = now, LastHeartbeatAnswer = answer }, cancellationToken);
        AgentLog.HeartbeatSent(logger, active, answer.PollSeconds, answer.HeartbeatSeconds, answer.HealthCheckSeconds);
        return answer;
    }

    public async Task CheckHealthAsync(CancellationToken cancellationToken)
    {
        var state = await store.ReadAsync(cancellationToken);
        foreach (var record in state.Contracts.Values.Where(r => r.Phase == ContractPhase.Provisioned && r.Instance is not null))
        {
            // A report the platform refuses for one contract (its term ended, and its termination is not handled yet)
            // must not keep the others' reports from being sent.
            await Guard(record.ContractId, "health check", async () =>
            {
                var checkedAt = time.GetUtcNow();
                var result = await provisioners.ForRecord(record).CheckHealthAsync(record.Instance!, cancellationToken);
                await api.ReportHealthAsync(record.ContractId, new HealthReport(checkedAt, result.Status, result.LatencyMs, result.Details), cancellationToken);
                AgentLog.HealthChecked(logger, record.ContractId, result.Status, result.Details);
            });
        }
    }

    public async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var running = new List<RunningInstance>();
        foreach (var provisioner in provisioners.All)
        {
            running.AddRange(await provisioner.ListRunningAsync(cancellationToken));
        }
        var answer = await api.ReconcileAsync(new ReconcileRequest([.. running.Select(i => new ReconcileInstance(i.ExternalId, i.ContractId))]), cancellationToken);
        AgentLog.Reconciled(logger, running.Count, answer.Keep.Count, answer.Terminate.Count);
        foreach (var item in answer.Terminate)
        {
            AgentLog.ReconcileTerminate(logger, item.ExternalId, item.Reason, item.ContractId);
            if (item.ContractId is { } contractId)
            {
                await Guard(contractId, "termination", () => TerminateAsync(contractId, item.ExternalId, $"reconcile: {item.Reason}", cancellationToken));
            }
        }
    }

    /// <summary>
    /// Reports a server made for a contract this agent holds: renews the lock, seals the password to the renter,
    /// records the sealed instance, reports, and records the acknowledgement. Used by the daemon and by <c>manual complete</c>.
    /// </summary>
    public async Task CompleteAsync(string contractId, string renterPubkey, ProvisionedServer server, CancellationToken cancellationToken)
    {
        await api.LockAsync(contractId, leaseSeconds: null, cancellationToken);
        var renterKey = Convert.FromHexString(renterPubkey);
        var sealedCredentials = CredentialSealer.Seal(renterKey, server.Password, contractId);
        var instance = new InstanceReport(server.ExternalId, server.Ipv4, server.Ipv6, server.Hostname, server.SshPort, server.SshUser, sealedCredentials);
        var known = (await store.ReadAsync(cancellationToken)).Contracts.GetValueOrDefault(contractId);
        var record = new ContractRecord
        {
            ContractId = contractId,
            RenterPubkey = renterPubkey,
            Provisioner = known?.Provisioner,
            Phase = ContractPhase.ReportPending,
            Instance = instance,
            UpdatedAt = time.GetUtcNow(),
        };
        await store.PutAsync(record, cancellationToken);
        await SendReportAsync(record, cancellationToken);
    }

    /// <summary>Reports a contract failed (used by <c>manual fail</c> and when a provisioner gives up).</summary>
    public async Task FailAsync(string contractId, string renterPubkey, string reason, CancellationToken cancellationToken)
    {
        await api.LockAsync(contractId, leaseSeconds: null, cancellationToken);
        var record = new ContractRecord
        {
            ContractId = contractId,
            RenterPubkey = renterPubkey,
            Phase = ContractPhase.FailurePending,
            Message = reason,
            UpdatedAt = time.GetUtcNow(),
        };
        await store.PutAsync(record, cancellationToken);
        await SendReportAsync(record, cancellationToken);
    }

    /// <summary>Records a termination done (by hand or by the provisioner) and reports it.</summary>
    public async Task ConfirmTerminatedAsync(string contractId, string? message, CancellationToken cancellationToken)
    {
        var state = await store.ReadAsync(cancellationToken);
        var record = state.Contracts.GetValueOrDefault(contractId) ?? new ContractRecord
        {
            ContractId = contractId,
            RenterPubkey = "",
            Phase = ContractPhase.TerminationPending,
            UpdatedAt = time.GetUtcNow(),
        };
        record = record with { Phase = ContractPhase.TerminationPending, Message = message, UpdatedAt = time.GetUtcNow() };
        await store.PutAsync(record, cancellationToken);
        await SendReportAsync(record, cancellationToken);
    }

    private async Task HandleProvisionWorkAsync(Work work, ContractRecord? record, CancellationToken cancellationToken)
    {
        switch (record?.Phase)
        {
            case null:
                LockAnswer held;
                try
                {
                    held = await api.LockAsync(work.ContractId, leaseSeconds: null, cancellationToken);
                }
                catch (AgentApiException ex) when (ex.Status == HttpStatusCode.Conflict)
                {
                    AgentLog.LockRefused(logger, work.ContractId, ex.Problem);
                    return;
                }

                record = new ContractRecord
                {
                    ContractId = work.ContractId,
                    RenterPubkey = work.RenterPubkey,
                    Provisioner = provisioners.ForWork(work).Name,
                    Phase = ContractPhase.Provisioning,
                    UpdatedAt = time.GetUtcNow(),
                };
                await store.PutAsync(record, cancellationToken);
                AgentLog.Locked(logger, work.ContractId, held.ExpiresAt, record.Provisioner);
                await api.ReportProvisioningAsync(work.ContractId, new ProvisioningReport(ProvisioningStatus.Provisioning), cancellationToken);
                await ProvisionAsync(work, record, cancellationToken);
                break;

            case ContractPhase.Provisioning:
                // Recorded before a crash or a failed step: the provisioner finds what it already started.
                await RenewLockAsync(work.ContractId, cancellationToken);
                await ProvisionAsync(work, record, cancellationToken);
                break;

            case ContractPhase.Waiting:
                // Keeps the lease alive while a person (or a slow API) works on it.
                await RenewLockAsync(work.ContractId, cancellationToken);
                break;

            default:
                // Provisioned or reported already; the platform has not moved the contract on yet.
                break;
        }
    }

    private async Task ProvisionAsync(Work work, ContractRecord record, CancellationToken cancellationToken)
    {
        var outcome = await provisioners.ForRecord(record).ProvisionAsync(work, cancellationToken);
        switch (outcome)
        {
            case ProvisionOutcome.Provisioned provisioned:
                await CompleteAsync(work.ContractId, work.RenterPubkey, provisioned.Server, cancellationToken);
                break;
            case ProvisionOutcome.Waiting waiting:
                await store.PutAsync(record with { Phase = ContractPhase.Waiting, Message = waiting.Message, NotifiedAt = time.GetUtcNow(), UpdatedAt = time.GetUtcNow() }, cancellationToken);
                AgentLog.Waiting(logger, work.ContractId, waiting.Message);
                break;
            case ProvisionOutcome.Failed failed:
                await FailAsync(work.ContractId, work.RenterPubkey, failed.Reason, cancellationToken);
                break;
        }
    }

    private async Task TerminateAsync(string contractId, string? externalId, string why, CancellationToken cancellationToken)
    {
        var state = await store.ReadAsync(cancellationToken);
        var record = state.Contracts.GetValueOrDefault(contractId);
        if (record?.Phase is ContractPhase.TerminationWaiting or ContractPhase.TerminationPending)
        {
            return;
        }

        externalId ??= record?.Instance?.ExternalId;
        var provisioner = await provisioners.ForContractAsync(contractId, record, cancellationToken);
        var outcome = await provisioner.TerminateAsync(contractId, externalId, cancellationToken);
        if (outcome == TerminateOutcome.Waiting)
        {
            var waiting = (record ?? new ContractRecord { ContractId = contractId, RenterPubkey = "", Provisioner = provisioner.Name, Phase = ContractPhase.TerminationWaiting, UpdatedAt = time.GetUtcNow() })
                with { Phase = ContractPhase.TerminationWaiting, Message = why, NotifiedAt = time.GetUtcNow(), UpdatedAt = time.GetUtcNow() };
            await store.PutAsync(waiting, cancellationToken);
            AgentLog.TerminationWaiting(logger, contractId, why);
            return;
        }

        await ConfirmTerminatedAsync(contractId, why, cancellationToken);
    }

    /// <summary>Each provisioner's free room under its name; a provisioner that cannot tell is left out, one that fails is logged.</summary>
    private async Task<JsonElement?> CollectResourcesAsync(CancellationToken cancellationToken)
    {
        var resources = new JsonObject();
        foreach (var provisioner in provisioners.All)
        {
            try
            {
                if (await provisioner.CollectResourcesAsync(cancellationToken) is { } found)
                {
                    resources[provisioner.Name] = JsonNode.Parse(found.GetRawText());
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TimeoutException or IOException)
            {
                // The heartbeat says the agent is alive; a provisioner's API being down must not stop it.
                AgentLog.ResourcesFailed(logger, provisioner.Name, ex);
            }
        }
        return resources.Count == 0 ? null : JsonSerializer.SerializeToElement(resources);
    }

    private async Task SendPendingReportsAsync(CancellationToken cancellationToken)
    {
        var state = await store.ReadAsync(cancellationToken);
        foreach (var record in state.Contracts.Values.Where(r => r.Phase is ContractPhase.ReportPending or ContractPhase.FailurePending or ContractPhase.TerminationPending))
        {
            AgentLog.ResumingReport(logger, record.ContractId, record.Phase);
            await Guard(record.ContractId, "a pending report", async () =>
            {
                if (record.Phase != ContractPhase.TerminationPending)
                {
                    await RenewLockAsync(record.ContractId, cancellationToken);
                }
                await SendReportAsync(record, cancellationToken);
            });
        }
    }

    private async Task SendReportAsync(ContractRecord record, CancellationToken cancellationToken)
    {
        switch (record.Phase)
        {
            case ContractPhase.ReportPending:
                await api.ReportProvisioningAsync(record.ContractId, new ProvisioningReport(ProvisioningStatus.Provisioned, Instance: record.Instance), cancellationToken);
                await store.PutAsync(record with { Phase = ContractPhase.Provisioned, UpdatedAt = time.GetUtcNow() }, cancellationToken);
                AgentLog.ReportedProvisioned(logger, record.ContractId, record.Instance!.ExternalId, record.Instance.Ipv4 ?? record.Instance.Hostname ?? record.Instance.Ipv6, record.Instance.SshPort);
                break;
            case ContractPhase.FailurePending:
                await api.ReportProvisioningAsync(record.ContractId, new ProvisioningReport(ProvisioningStatus.Failed, record.Message), cancellationToken);
                await store.RemoveAsync(record.ContractId, cancellationToken);
                AgentLog.ReportedFailed(logger, record.ContractId, record.Message ?? "");
                break;
            case ContractPhase.TerminationPending:
                await api.ReportTerminatedAsync(record.ContractId, record.Message, cancellationToken);
                await store.RemoveAsync(record.ContractId, cancellationToken);
                AgentLog.ReportedTerminated(logger, record.ContractId, record.Instance?.ExternalId);
                break;
        }
    }

    private Task<LockAnswer> RenewLockAsync(string contractId, CancellationToken cancellationToken) =>
        api.LockAsync(contractId, leaseSeconds: null, cancellationToken);

    /// <summary>
    /// One contract's trouble (a refused lock renewal, a notify command that failed) must not stop the others; the
    /// state file keeps where it stood, so the next poll tries again. The API being unreachable stops the round instead.
    /// </summary>
    private async Task Guard(string contractId, string what, Func<Task> step)
    {
        try
        {
            await step();
        }
        catch (AgentApiException ex) when (ex.IsTransient)
        {
            throw;
        }
        catch (Exception ex) when (ex is AgentApiException or InvalidOperationException or TimeoutException or FormatException
            or System.ComponentModel.Win32Exception or HttpRequestException)
        {
            AgentLog.ContractStepFailed(logger, contractId, what, ex);
        }
    }
}
