using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using DecentCloud.Functions.Billing;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Provisioning;
using DecentCloud.Functions.Provisioning.Agents;
using DecentCloud.Functions.Provisioning.Lifecycle;
using DecentCloud.Shared.Signing;
using DecentCloud.Tests.Support;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

// Not DecentCloud.Tests.Provisioning: a namespace of that name would hide ContractState.Provisioning wherever tests import
// the states with "using static".
namespace DecentCloud.Tests.ContractLifecycles;

/// <summary>One app for the lifecycle tests: a provisioning timeout of two minutes, the sweep run by hand.</summary>
public sealed class ContractLifecycleFixture : AppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["PROVISIONING_TIMEOUT_MINUTES"] = ContractLifecycleTests.TimeoutMinutes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["AzureWebJobs.SweepContractLifecycles.Disabled"] = "true",
        ["AzureWebJobs.ExpireContracts.Disabled"] = "true",
        ["AzureWebJobs.PayRefunds.Disabled"] = "true",
    };
}

/// <summary>
/// A paid contract's orchestration through the real host, its task hub on Azurite and the contract events' queue: the
/// tests record what an agent reported as the agent API does (through its <see cref="ProvisioningStore"/>), raise the
/// event as it does (on <c>contract-{id}</c>, with its payload), and look at the contract's rows (state, history, refunds
/// owed, termination request). Each test has a contract of its own.
/// </summary>
public sealed class ContractLifecycleTests(ContractLifecycleFixture fixture) : IClassFixture<ContractLifecycleFixture>
{
    public const double TimeoutMinutes = 2;
    private const long Net = 72_000;
    private const long Gross = Net + (Net * 19 / 100);

    private readonly TestFunctionApp app = fixture.App;
    private readonly Ed25519phKey renter = Ed25519phKey.Generate();
    private readonly Ed25519phKey provider = Ed25519phKey.Generate();
    private readonly Ed25519phKey agent = Ed25519phKey.Generate();

    private ContractStore Store => app.Services.GetRequiredService<ContractStore>();

    private ContractRows Rows => app.Services.GetRequiredService<ContractRows>();

    private ProvisioningStore Provisioning => app.Services.GetRequiredService<ProvisioningStore>();

    private ContractLifecycleStarter Starter => app.Services.GetRequiredService<ContractLifecycleStarter>();

    [Fact]
    public async Task A_paid_contract_accepted_by_its_provider_is_provisioned_on_the_agents_reports_and_active_on_the_first_healthy_check()
    {
        var id = await InsertAsync(ContractState.Requested, paidAt: DateTimeOffset.UtcNow);
        await AcceptAsync(id);
        await RunningAsync(id);
        await WaitPhaseAsync(id, "waiting-lock");

        // An event is only a wake-up: without the lock recorded, it moves nothing.
        await RaiseAsync(id, ContractLifecycleEvents.Locked, new LockedSignal(agent.PublicKeyHex, DateTimeOffset.UtcNow.AddMinutes(10)));
        await WaitPhaseAsync(id, "waiting-lock", events: 1);
        Assert.Equal(ContractState.Accepted.Name(), (await ContractAsync(id)).State);

        await LockAsync(id);
        await StateAsync(id, ContractState.Provisioning);
        await ReportAsync(id, "provisioning");
        await ReportAsync(id, "provisioned");
        await StateAsync(id, ContractState.Provisioned);
        await HealthAsync(id, "unhealthy");
        await WaitPhaseAsync(id, "waiting-healthy", events: 5);
        Assert.Equal(ContractState.Provisioned.Name(), (await ContractAsync(id)).State);
        await HealthAsync(id, "healthy");
        await StateAsync(id, ContractState.Active);

        // Every move is the state machine's, recorded with its history row by the orchestration.
        var moves = (await Store.MovesAsync(id, CancellationToken.None)).OrderBy(m => m.At).ToList();
        Assert.Equal(["requested>accepted", "accepted>provisioning", "provisioning>provisioned", "provisioned>active"], moves.Select(m => $"{m.From}>{m.To}"));
        Assert.All(moves.Skip(1), m => Assert.Equal(ContractLifecycleWork.Mover, m.By));
        Assert.Empty(await RefundsAsync(id));

        // The term runs from provisioning's completion: the orchestration's timer is set to its end.
        var progress = await WaitPhaseAsync(id, "active");
        Assert.Equal(moves.Single(m => m.To == "provisioned").At.AddHours(1), progress.Until);

        // Admins see the instance with the admin orchestration endpoints.
        using var admin = Admin();
        var page = await admin.GetFromJsonAsync<JsonObject>("api/v1/admin/orchestrations?name=ContractLifecycle&pageSize=500");
        Assert.Contains(page!["instances"]!.AsArray(), i => i!["instanceId"]!.GetValue<string>() == ContractLifecycleEvents.InstanceId(id));
        var one = await admin.GetFromJsonAsync<JsonObject>($"api/v1/admin/orchestrations/{ContractLifecycleEvents.InstanceId(id)}");
        Assert.Equal(("Running", "active"), (one!["status"]!.GetValue<string>(), one["customStatus"]!["Phase"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_active_contract_whose_term_ended_expires_is_marked_for_termination_and_ends_with_the_agents_report()
    {
        // Provisioned almost an hour ago, on a one-hour term: the term ends in a few seconds.
        var provisionedAt = DateTimeOffset.UtcNow.AddHours(-1).AddSeconds(5);
        var id = await InsertAsync(ContractState.Active, paidAt: provisionedAt.AddMinutes(-5), history:
        [
            (ContractState.Requested, ContractState.Accepted, provisionedAt.AddMinutes(-10)),
            (ContractState.Accepted, ContractState.Provisioning, provisionedAt.AddMinutes(-2)),
            (ContractState.Provisioning, ContractState.Provisioned, provisionedAt),
            (ContractState.Provisioned, ContractState.Active, provisionedAt.AddMinutes(1)),
        ]);
        await RecordReportAsync(id, "provisioned");
        Assert.True(await Starter.StartIfReadyAsync(app.Orchestrations, id, CancellationToken.None));

        await StateAsync(id, ContractState.Expired);
        Assert.Equal("expired", (await TerminationMarkAsync(id)).Reason);
        // A term served in full owes nothing back.
        Assert.Empty(await RefundsAsync(id));
        await WaitPhaseAsync(id, "waiting-terminated");

        var terminated = await TerminatedAsync(id);
        var outcome = (await EndedAsync(id)).ReadOutputAs<LifecycleOutcome>()!;
        Assert.Equal((ContractState.Expired, (DateTimeOffset?)terminated.At), (outcome.State, outcome.TerminatedAt));
    }

    [Fact]
    public async Task A_paid_contract_no_agent_locks_within_the_timeout_is_provisioningfailed_with_its_full_refund_and_nothing_to_terminate()
    {
        // Accepted and paid longer ago than the timeout, and never started (a lost event): the sweep starts it.
        var id = await InsertAsync(ContractState.Accepted, paidAt: DateTimeOffset.UtcNow.AddMinutes(-TimeoutMinutes - 1));
        await ActivatorUtilities.CreateInstance<SweepContractLifecycles>(app.Services).Run(new TimerInfo(), app.Orchestrations, CancellationToken.None);

        await StateAsync(id, ContractState.ProvisioningFailed);
        var refund = Assert.Single(await RefundsAsync(id));
        Assert.Equal((Gross, nameof(RefundReason.ProvisioningFailed)), (refund.RefundMinor, refund.Reason));
        Assert.Equal(ContractLifecycleWork.Mover, Assert.Single(await Store.MovesAsync(id, CancellationToken.None)).By);
        var outcome = (await EndedAsync(id)).ReadOutputAs<LifecycleOutcome>()!;
        Assert.Equal((ContractState.ProvisioningFailed, "provisioningfailed with no instance recorded"), (outcome.State, outcome.Ending));
        Assert.Null(await Provisioning.TerminationMarkAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task A_contract_locked_but_never_reported_times_out_to_provisioningfailed_with_its_full_refund()
    {
        // The timeout comes ten seconds from now.
        var id = await InsertAsync(ContractState.Accepted, paidAt: DateTimeOffset.UtcNow.AddMinutes(-TimeoutMinutes).AddSeconds(10));
        Assert.True(await Starter.StartIfReadyAsync(app.Orchestrations, id, CancellationToken.None));
        await LockAsync(id);
        await StateAsync(id, ContractState.Provisioning);

        await StateAsync(id, ContractState.ProvisioningFailed, TimeSpan.FromSeconds(60));
        Assert.Equal(Gross, Assert.Single(await RefundsAsync(id)).RefundMinor);
        Assert.Equal(ContractState.ProvisioningFailed, (await EndedAsync(id)).ReadOutputAs<LifecycleOutcome>()!.State);
    }

    [Fact]
    public async Task A_provisioned_report_whose_event_was_lost_is_found_when_the_timeout_wakes_the_orchestration()
    {
        var id = await InsertAsync(ContractState.Accepted, paidAt: DateTimeOffset.UtcNow.AddMinutes(-TimeoutMinutes).AddSeconds(10));
        Assert.True(await Starter.StartIfReadyAsync(app.Orchestrations, id, CancellationToken.None));
        await LockAsync(id);
        await StateAsync(id, ContractState.Provisioning);

        // Recorded, but the raise failed (the agent API only logs that).
        await RecordReportAsync(id, "provisioned");

        await StateAsync(id, ContractState.Provisioned, TimeSpan.FromSeconds(60));
        Assert.Empty(await RefundsAsync(id));
        await WaitPhaseAsync(id, "waiting-healthy");
    }

    [Fact]
    public async Task A_failed_provisioning_report_makes_the_contract_provisioningfailed_with_its_full_refund()
    {
        var id = await InsertAsync(ContractState.Requested, paidAt: DateTimeOffset.UtcNow);
        await AcceptAsync(id);
        await RunningAsync(id);
        await LockAsync(id);
        await ReportAsync(id, "failed");

        await StateAsync(id, ContractState.ProvisioningFailed);
        var refund = Assert.Single(await RefundsAsync(id));
        Assert.Equal((Gross, nameof(RefundReason.ProvisioningFailed)), (refund.RefundMinor, refund.Reason));
        Assert.Equal(ContractState.ProvisioningFailed, (await EndedAsync(id)).ReadOutputAs<LifecycleOutcome>()!.State);
        Assert.Null(await Provisioning.TerminationMarkAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task The_renter_cancelling_during_service_gets_the_pro_rata_refund_from_the_cancel_and_the_instance_is_terminated()
    {
        var id = await ActiveAsync();

        using (var client = app.SignedBy(renter))
        {
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"api/v1/contracts/{id}/cancel", null)).StatusCode);
        }

        // The cancel recorded the move and the refund of the unused share (almost all of a one-hour term).
        var refund = Assert.Single(await RefundsAsync(id));
        Assert.Equal(nameof(RefundReason.RenterCancelled), refund.Reason);
        Assert.InRange(refund.RefundMinor, Gross * 9 / 10, Gross - 1);
        // The cancelled event reaches the orchestration, which asks for the termination.
        Assert.Equal("cancelled", (await TerminationMarkAsync(id)).Reason);
        var terminated = await TerminatedAsync(id);
        var outcome = (await EndedAsync(id)).ReadOutputAs<LifecycleOutcome>()!;
        Assert.Equal((ContractState.Cancelled, (DateTimeOffset?)terminated.At), (outcome.State, outcome.TerminatedAt));
        Assert.Single(await RefundsAsync(id));
    }

    [Fact]
    public async Task A_dispute_pauses_an_active_contract_and_its_close_in_the_providers_favour_resumes_it_with_the_term_extended()
    {
        var id = await ActiveAsync();
        var before = await WaitPhaseAsync(id, "active");

        await DisputeAsync(id, "dp_" + id, "needs_response");
        await StateAsync(id, ContractState.Paused);
        await DisputeAsync(id, "dp_" + id, "won");
        await StateAsync(id, ContractState.Active);

        var moves = (await Store.MovesAsync(id, CancellationToken.None)).OrderBy(m => m.At).ToList();
        Assert.Equal(["active>paused", "paused>active"], moves.TakeLast(2).Select(m => $"{m.From}>{m.To}"));
        var paused = moves[^1].At - moves[^2].At;
        var after = await WaitPhaseAsync(id, "active", until: u => u > before.Until);
        Assert.Equal(before.Until + paused, after.Until);
        Assert.Empty(await RefundsAsync(id));
    }

    [Fact]
    public async Task A_lost_dispute_cancels_the_contract_settled_by_the_chargeback_and_terminates_its_instance()
    {
        var id = await ActiveAsync();

        await DisputeAsync(id, "dp_" + id, "needs_response");
        await StateAsync(id, ContractState.Paused);
        await DisputeAsync(id, "dp_" + id, "lost");
        await StateAsync(id, ContractState.Cancelled);

        // The chargeback returned the whole charge: billing booked the renter's unused share out of escrow with the lost
        // dispute (docs/ledger.md, "Chargebacks"), so the DisputeLost cancellation owes nothing more through Stripe.
        Assert.Empty(await RefundsAsync(id));
        var contract = await ContractAsync(id);
        var payment = (await Rows.FindAsync<PaymentEntity>(id, PaymentEntity.RowKeyFor(contract.PaidSessionId!), CancellationToken.None))!;
        Assert.InRange(payment.ChargedBackMinor, Gross * 9 / 10, Gross - 1);
        Assert.Equal("cancelled", (await TerminationMarkAsync(id)).Reason);
    }

    [Fact]
    public async Task Health_reports_by_the_hundred_make_the_orchestration_continue_as_new_where_it_was()
    {
        var id = await ActiveAsync();
        var instanceId = ContractLifecycleEvents.InstanceId(id);

        for (var i = 0; i < ContractLifecycle.EventsPerGeneration + 5; i++)
        {
            await HealthAsync(id, "healthy");
        }

        // The next generation reads the contract again and goes on waiting for the term's end, with the reports it had
        // not handled yet carried over.
        await Eventually.HoldsAsync(
            async () => await app.Orchestrations.GetInstanceAsync(instanceId, getInputsAndOutputs: true) is { SerializedInput: { } input } instance
                && System.Text.Json.JsonDocument.Parse(input).RootElement.GetProperty("Generation").GetInt32() == 1
                && instance.ReadCustomStatusAs<LifecycleProgress>() is { Phase: "active", Events: >= 5 },
            "the orchestration continued as new and took the remaining reports", TimeSpan.FromSeconds(90));
        await DisputeAsync(id, "dp_" + id, "needs_response");
        await StateAsync(id, ContractState.Paused);
        Assert.Equal(["active>paused"], (await Store.MovesAsync(id, CancellationToken.None)).Take(1).Select(m => $"{m.From}>{m.To}"));
    }

    [Fact]
    public async Task Cancelling_an_unpaid_contract_raises_nothing_and_is_not_a_failure()
    {
        var id = await InsertAsync(ContractState.Requested, paidAt: DateTimeOffset.UtcNow, paid: false);

        using (var client = app.SignedBy(renter))
        {
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"api/v1/contracts/{id}/cancel", null)).StatusCode);
        }

        var instanceId = ContractLifecycleEvents.InstanceId(id);
        await Eventually.HoldsAsync(
            () => app.Logs.Entries.Any(e => e.Message == $"Cancelled not raised: contract orchestration {instanceId} does not exist"),
            "the cancel reached the lifecycle queue, which found no orchestration");
        Assert.Null(await app.Orchestrations.GetInstanceAsync(instanceId));
        var poison = app.Services.GetRequiredService<Azure.Storage.Queues.QueueServiceClient>()
            .GetQueueClient(Functions.Platform.Queues.PoisonQueueName.NameFor(SignalContractLifecycle.QueueName));
        Assert.False(await poison.ExistsAsync() && (await poison.PeekMessagesAsync(32)).Value.Length > 0, "no lifecycle message went to the poison queue");
    }

    [Fact]
    public async Task Start_triggers_at_once_and_again_later_make_one_orchestration_that_is_never_started_over()
    {
        var id = await InsertAsync(ContractState.Accepted, paidAt: DateTimeOffset.UtcNow);
        var instanceId = ContractLifecycleEvents.InstanceId(id);
        await Task.WhenAll(TriggersAsync(id).Append(Starter.StartIfReadyAsync(app.Orchestrations, id, CancellationToken.None)));
        var first = await RunningAsync(id);
        await LockAsync(id);
        await StateAsync(id, ContractState.Provisioning);
        await WaitPhaseAsync(id, "waiting-provisioned", events: 1);
        var found = AlreadyStarted(instanceId);

        Assert.False(await Starter.StartIfReadyAsync(app.Orchestrations, id, CancellationToken.None));
        await Task.WhenAll(TriggersAsync(id));

        // The contract events (accepted, paid) and the sweep find the instance and start nothing.
        await Eventually.HoldsAsync(() => AlreadyStarted(instanceId) >= found + 4, "the later triggers found the instance");
        var again = await app.Orchestrations.GetInstanceAsync(instanceId, getInputsAndOutputs: true);
        Assert.Equal((first.CreatedAt, OrchestrationRuntimeStatus.Running), (again!.CreatedAt, again.RuntimeStatus));
        var progress = again.ReadCustomStatusAs<LifecycleProgress>()!;
        Assert.Equal(("waiting-provisioned", 1), (progress.Phase, progress.Events));
        Assert.Single(await Store.MovesAsync(id, CancellationToken.None), m => m.To == "provisioning");
    }

    /// <summary>Every way an orchestration is started: the accepted and paid events on the queue, and the sweep.</summary>
    private IEnumerable<Task> TriggersAsync(string id)
    {
        var events = app.Services.GetRequiredService<ContractEvents>();
        var contract = Store.FindAsync(id, CancellationToken.None);
        yield return contract.ContinueWith(c => events.PublishAsync(Functions.Marketplace.Events.EventSubscriptions.ContractAccepted, c.Result!, CancellationToken.None), TaskScheduler.Default).Unwrap();
        yield return contract.ContinueWith(c => events.PublishAsync(Functions.Marketplace.Events.EventSubscriptions.ContractPaid, c.Result!, CancellationToken.None), TaskScheduler.Default).Unwrap();
        yield return ActivatorUtilities.CreateInstance<SweepContractLifecycles>(app.Services).Run(new TimerInfo(), app.Orchestrations, CancellationToken.None);
    }

    private int AlreadyStarted(string instanceId) =>
        app.Logs.Entries.Count(e => e.Message.StartsWith($"Contract orchestration {instanceId} is ", StringComparison.Ordinal) && e.Message.EndsWith("already; nothing started", StringComparison.Ordinal));

    /// <summary>A contract through accept, lock, provisioned and healthy: active, on a one-hour term.</summary>
    private async Task<string> ActiveAsync()
    {
        var id = await InsertAsync(ContractState.Requested, paidAt: DateTimeOffset.UtcNow);
        await AcceptAsync(id);
        await RunningAsync(id);
        await LockAsync(id);
        await ReportAsync(id, "provisioned");
        await StateAsync(id, ContractState.Provisioned);
        await HealthAsync(id, "healthy");
        await StateAsync(id, ContractState.Active);
        return id;
    }

    /// <summary>A contract of this test's renter and provider, on a one-hour term, paid (payment row and flag) at <paramref name="paidAt"/>.</summary>
    private async Task<string> InsertAsync(ContractState state, DateTimeOffset paidAt, (ContractState From, ContractState To, DateTimeOffset At)[]? history = null, bool paid = true)
    {
        var id = ContractStore.NewId();
        var session = "cs_" + id;
        var contract = new ContractEntity
        {
            PartitionKey = id,
            RenterKey = renter.PublicKeyHex,
            ProviderKey = provider.PublicKeyHex,
            OfferingId = "offering",
            Hours = 1,
            PriceMinor = Net,
            Currency = "EUR",
            SshKey = "ssh-ed25519 AAAA",
            State = state.Name(),
            PaymentSucceeded = paid,
            PaidSessionId = paid ? session : null,
            PaidAt = paid ? paidAt : null,
            CreatedAt = paidAt.AddMinutes(-1),
            UpdatedAt = paidAt,
        };
        Assert.True(await Store.TryAddAsync(contract, CancellationToken.None));
        Assert.True(!paid || await Rows.TryAddAsync(new PaymentEntity
        {
            PartitionKey = id,
            RowKey = PaymentEntity.RowKeyFor(session),
            SessionId = session,
            Status = PaymentStatus.Paid,
            Currency = "EUR",
            AmountSubtotalMinor = Net,
            AmountTaxMinor = Gross - Net,
            AmountTotalMinor = Gross,
            PaymentIntentId = "pi_" + id,
            LastEventAt = paidAt,
        }, CancellationToken.None));
        foreach (var (from, to, at) in history ?? [])
        {
            Assert.True(await Rows.TryAddAsync(new ContractMoveEntity
            {
                PartitionKey = id, RowKey = ContractMoveEntity.RowKeyFor(at), From = from.Name(), To = to.Name(), By = "test", At = at,
            }, CancellationToken.None));
        }

        return id;
    }

    private async Task AcceptAsync(string id)
    {
        using var client = app.SignedBy(provider);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"api/v1/contracts/{id}/accept", null)).StatusCode);
    }

    /// <summary>Records the dispute as billing does on Stripe's event (the row, then <c>contract-dispute-changed</c>).</summary>
    private async Task DisputeAsync(string id, string disputeId, string status)
    {
        var dispute = new Stripe.Dispute
        {
            Id = disputeId,
            Status = status,
            Amount = Gross,
            Currency = "eur",
            Reason = "fraudulent",
            Metadata = new Dictionary<string, string> { ["contract_id"] = id },
        };
        var outcome = await app.Services.GetRequiredService<ChargeEvents>().DisputeAsync(dispute, DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.True(outcome.Applied, outcome.Text);
    }

    private Task RaiseAsync(string id, string eventName, object? payload) =>
        app.Orchestrations.RaiseEventAsync(ContractLifecycleEvents.InstanceId(id), eventName, payload);

    private async Task<ContractEntity> ContractAsync(string id) => (await Store.FindAsync(id, CancellationToken.None))!;

    private Task<List<RefundOwedEntity>> RefundsAsync(string id) => Rows.ListAsync<RefundOwedEntity>(id, RefundOwedEntity.RowKeyPrefix, CancellationToken.None);

    private async Task StateAsync(string id, ContractState state, TimeSpan? timeout = null) =>
        await Eventually.HoldsAsync(async () => (await ContractAsync(id)).State == state.Name(), $"contract {id} is {state.Name()}", timeout ?? TimeSpan.FromSeconds(45));

    private async Task<TerminationMark> TerminationMarkAsync(string id)
    {
        TerminationMark? mark = null;
        await Eventually.HoldsAsync(
            async () => (mark = await Provisioning.TerminationMarkAsync(id, CancellationToken.None)) is not null,
            $"contract {id} is marked for termination", TimeSpan.FromSeconds(45));
        return mark!;
    }

    /// <summary>The agent takes the contract's lock, as <c>POST …/lock</c> records it, and the API raises <c>Locked</c>.</summary>
    private async Task LockAsync(string id)
    {
        var now = DateTimeOffset.UtcNow;
        var lease = await Provisioning.TryLockAsync(id, agent.PublicKeyHex, now, now.AddMinutes(10), CancellationToken.None);
        Assert.NotNull(lease);
        await RaiseAsync(id, ContractLifecycleEvents.Locked, new LockedSignal(lease.AgentKey, lease.ExpiresAt));
    }

    /// <summary>The agent reports progress, as <c>POST …/provisioning</c> records it (with the instance when provisioned), and the API raises the event.</summary>
    private async Task ReportAsync(string id, string status)
    {
        await RecordReportAsync(id, status);
        await RaiseAsync(id, ContractLifecycleEvents.ProvisioningReported, new ProvisioningReportedSignal(status, null));
    }

    private async Task RecordReportAsync(string id, string status)
    {
        var now = DateTimeOffset.UtcNow;
        var lease = await Provisioning.LockAsync(id, CancellationToken.None) ?? await Provisioning.TryLockAsync(id, agent.PublicKeyHex, now, now.AddMinutes(10), CancellationToken.None);
        var report = new ProvisioningReportRow { PartitionKey = id, RowKey = ProvisioningReportRow.RowKeyFor(now), Status = status, AgentKey = agent.PublicKeyHex, At = now };
        InstanceRow? instance = status == "provisioned"
            ? new InstanceRow
            {
                PartitionKey = id, ExternalId = "vm-" + id[..8], Ipv4 = "203.0.113.10", SshPort = 22, SshUser = "root", SealedVersion = 2,
                SealedEphemeralPubkey = "AA==", SealedNonce = "AA==", SealedCiphertext = "AA==", SealedAad = "AA==", AgentKey = agent.PublicKeyHex, RecordedAt = now,
            }
            : null;
        Assert.True(await Provisioning.TryRecordReportAsync(lease!, report, instance, provider.PublicKeyHex, CancellationToken.None));
    }

    /// <summary>The agent reports a health check; the API raises <c>HealthReported</c> with its status.</summary>
    private Task HealthAsync(string id, string status) =>
        RaiseAsync(id, ContractLifecycleEvents.HealthReported, new HealthReportedSignal(status, DateTimeOffset.UtcNow));

    /// <summary>The agent reports the instance terminated, as <c>POST …/terminated</c> records it, and the API raises <c>Terminated</c>.</summary>
    private async Task<TerminatedRow> TerminatedAsync(string id)
    {
        var kept = await Provisioning.RecordTerminatedAsync(
            new TerminatedRow { PartitionKey = id, AgentKey = agent.PublicKeyHex, Message = "deleted", At = DateTimeOffset.UtcNow }, provider.PublicKeyHex, CancellationToken.None);
        await RaiseAsync(id, ContractLifecycleEvents.Terminated, new TerminatedSignal(kept.At));
        return kept;
    }

    private async Task<OrchestrationMetadata> RunningAsync(string id)
    {
        OrchestrationMetadata? instance = null;
        await Eventually.HoldsAsync(
            async () => (instance = await app.Orchestrations.GetInstanceAsync(ContractLifecycleEvents.InstanceId(id))) is { RuntimeStatus: OrchestrationRuntimeStatus.Running },
            $"the orchestration of contract {id} runs", TimeSpan.FromSeconds(45));
        return instance!;
    }

    private async Task<LifecycleProgress> WaitPhaseAsync(string id, string phase, int events = 0, Func<DateTimeOffset?, bool>? until = null)
    {
        LifecycleProgress? progress = null;
        await Eventually.HoldsAsync(
            async () => await app.Orchestrations.GetInstanceAsync(ContractLifecycleEvents.InstanceId(id), getInputsAndOutputs: true) is { SerializedCustomStatus: not null } instance
                && (progress = instance.ReadCustomStatusAs<LifecycleProgress>()) is { } p && p.Phase == phase && p.Events >= events && (until is null || until(p.Until)),
            $"the orchestration of contract {id} is {phase}", TimeSpan.FromSeconds(45));
        return progress!;
    }

    private async Task<OrchestrationMetadata> EndedAsync(string id)
    {
        OrchestrationMetadata? instance = null;
        await Eventually.HoldsAsync(
            async () => (instance = await app.Orchestrations.GetInstanceAsync(ContractLifecycleEvents.InstanceId(id), getInputsAndOutputs: true)) is { IsCompleted: true },
            $"the orchestration of contract {id} has ended", TimeSpan.FromSeconds(45));
        Assert.Equal(OrchestrationRuntimeStatus.Completed, instance!.RuntimeStatus);
        return instance;
    }

    private HttpClient Admin()
    {
        var admin = new HttpClient { BaseAddress = app.Client.BaseAddress };
        admin.DefaultRequestHeaders.Add("x-functions-key", TestKeys.Master);
        return admin;
    }
}
