using System.Text.Json;
using System.Text.Json.Nodes;
using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Operations.Orchestrations;
using Microsoft.DurableTask;

namespace DecentCloud.Functions.Provisioning.Lifecycle;

/// <summary>
/// What a contract's orchestration starts with: the contract and its settings, fixed when it starts (an orchestrator may
/// not read settings, which could differ between replays).
/// </summary>
/// <param name="Generation">How many times the instance continued as new (it does so to keep its history short).</param>
public sealed record ContractLifecycleInput(string ContractId, double ProvisioningTimeoutMinutes, double TerminationWaitHours, int Generation = 0)
{
    public static ContractLifecycleInput For(string contractId, ContractLifecycleOptions options) =>
        new(contractId, options.ProvisioningTimeoutMinutes, options.TerminationWaitHours);
}

/// <summary>
/// The orchestration's custom status: the phase it is in, the contract's state it last read, until when its timer runs,
/// the events it has handled in this generation and the last one; once it failed, the failure (docs/workflows.md).
/// </summary>
public sealed record LifecycleProgress(string Phase, ContractState State, DateTimeOffset? Until, int Events, string? LastEvent, OrchestrationFailure? Failure = null);

/// <summary>The orchestration's output: the contract's final state, when its instance was reported terminated, and how it ended.</summary>
public sealed record LifecycleOutcome(string ContractId, ContractState? State, DateTimeOffset? TerminatedAt, string Ending);

/// <summary>
/// The orchestration of one paid contract, from accepted to its end (docs/workflows.md, "Contract lifecycle"): it waits
/// for an agent's lock, then for the provisioned report (or the timeout: provisioningfailed, refunded in full), for the
/// first healthy report (active), and for the end of the term (expired); a dispute pauses and resumes or ends it; once
/// the contract ended with an instance that may run, it asks for its termination and waits for the agent's report.
/// Each time it wakes it reads the contract's recorded state, the agent API's records included
/// (<see cref="ReadContractState"/>); the events of <see cref="ContractLifecycleEvents"/> only wake it (a health report's
/// status is the one thing read from one). Instance id <see cref="ContractLifecycleEvents.InstanceId"/>.
/// </summary>
public static class ContractLifecycle
{
    /// <summary>Events handled before the instance continues as new, so its history (replayed on every wake) stays short.</summary>
    public const int EventsPerGeneration = 100;

    private static readonly string[] EventNames =
    [
        ContractLifecycleEvents.Locked,
        ContractLifecycleEvents.ProvisioningReported,
        ContractLifecycleEvents.HealthReported,
        ContractLifecycleEvents.Terminated,
        ContractLifecycleEvents.Cancelled,
        ContractLifecycleEvents.DisputeChanged,
    ];

    /// <summary>Storage errors pass: every activity is retried with back-off, 5 attempts from 5 s.</summary>
    private static readonly TaskOptions Retry = TaskOptions.FromRetryPolicy(
        new RetryPolicy(5, TimeSpan.FromSeconds(5), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromMinutes(5)));

    [Function(nameof(ContractLifecycle))]
    public static async Task<LifecycleOutcome?> Run([OrchestrationTrigger] TaskOrchestrationContext context, ContractLifecycleInput? input)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (input is null)
        {
            throw new InvalidOperationException($"{context.InstanceId} was started without its input");
        }

        var run = new LifecycleRun(context, input);
        try
        {
            return await run.ToEndAsync();
        }
        catch (TaskFailedException failed)
        {
            context.SetCustomStatus(run.Progress with { Failure = OrchestrationFailure.Recorded(failed) });
            throw;
        }
    }

    /// <summary>One generation of the orchestration: its waits (one per event name, kept across phases) and its progress.</summary>
    private sealed class LifecycleRun(TaskOrchestrationContext context, ContractLifecycleInput input)
    {
        private readonly Dictionary<string, Task<JsonNode?>> waits = new(StringComparer.Ordinal);
        private int events;
        private string? lastEvent;

        public LifecycleProgress Progress { get; private set; } = new("starting", ContractState.Accepted, null, 0, null);

        private string Id => input.ContractId;

        public async Task<LifecycleOutcome?> ToEndAsync()
        {
            while (MayGoOn)
            {
                var contract = await context.CallActivityAsync<ContractSnapshot>(nameof(ReadContractState), Id, Retry);
                if (!contract.Exists)
                {
                    Report("done", contract, null);
                    return new LifecycleOutcome(Id, null, null, "no such contract");
                }

                if (await DisputeMoveAsync(contract))
                {
                    continue;
                }

                if (ContractStateMachine.IsTerminal(contract.State))
                {
                    return await TerminateAsync(contract);
                }

                if (!contract.Settled)
                {
                    // Started by hand for a contract not paid: the unpaid contract's timeout (ExpireContracts) owns it.
                    Report("done", contract, null);
                    return new LifecycleOutcome(Id, contract.State, null, "not paid: left to the unpaid contracts' timeout");
                }

                if (await RecordedMoveAsync(contract))
                {
                    continue;
                }

                var until = Deadline(contract);
                var phase = contract.State switch
                {
                    ContractState.Accepted => "waiting-lock",
                    ContractState.Provisioning => "waiting-provisioned",
                    ContractState.Provisioned => "waiting-healthy",
                    ContractState.Active => "active",
                    _ => "paused",
                };

                // Events that change nothing in this phase (a health report while active, say) are taken and left.
                while (MayGoOn)
                {
                    Report(phase, contract, until);
                    var signal = await NextAsync(until);
                    if (await ActAsync(contract, signal))
                    {
                        break;
                    }
                }
            }

            return ContinueAsNew();
        }

        /// <summary>A lost dispute ends the contract; an open one pauses it once in service; a closed one resumes it.</summary>
        private async Task<bool> DisputeMoveAsync(ContractSnapshot contract)
        {
            ContractState? to = null;
            RefundReason? reason = null;
            if (contract.Dispute == DisputeStanding.Lost && !ContractStateMachine.IsTerminal(contract.State))
            {
                (to, reason) = (ContractState.Cancelled, RefundReason.DisputeLost);
            }
            else if (contract.Dispute == DisputeStanding.Open && contract.State is ContractState.Provisioned or ContractState.Active)
            {
                to = ContractState.Paused;
            }
            else if (contract.Dispute != DisputeStanding.Open && contract.State == ContractState.Paused)
            {
                to = contract.PausedFrom ?? ContractState.Active;
            }

            if (to is not { } target)
            {
                return false;
            }

            var outcome = await MoveAsync(contract.State, target, reason);
            // A refused move with the contract unchanged would be refused again: go on waiting instead of looping.
            return outcome.Moved || outcome.Current != contract.State;
        }

        /// <summary>When the phase's timer runs out: the provisioning timeout, or the end of the term once active.</summary>
        private DateTimeOffset? Deadline(ContractSnapshot contract) => contract.State switch
        {
            ContractState.Accepted or ContractState.Provisioning => contract.ReadyAt.AddMinutes(input.ProvisioningTimeoutMinutes),
            ContractState.Active => contract.TermEndsAt,
            _ => null,
        };

        /// <summary>
        /// The moves that what the agents recorded, or the clock, call for: a lock taken (provisioning), a report of
        /// provisioned or failed, the provisioning timeout, the end of the term. True when the contract moved (or was
        /// found moved by someone else), so it is read again.
        /// </summary>
        private async Task<bool> RecordedMoveAsync(ContractSnapshot contract)
        {
            var now = new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero);
            var timedOut = Deadline(contract) is { } deadline && now >= deadline;
            ContractState? to = (contract.State, contract.Report) switch
            {
                (ContractState.Accepted, _) when contract.Locked || contract.Report is not null => ContractState.Provisioning,
                (ContractState.Provisioning, "failed") => ContractState.ProvisioningFailed,
                (ContractState.Provisioning, "provisioned") => ContractState.Provisioned,
                (ContractState.Accepted or ContractState.Provisioning, _) when timedOut => ContractState.ProvisioningFailed,
                (ContractState.Active, _) when timedOut => ContractState.Expired,
                _ => null,
            };
            if (to is not { } target)
            {
                return false;
            }

            var outcome = await MoveAsync(contract.State, target);
            // A refused move with the contract unchanged would be refused again: go on waiting instead of looping.
            return outcome.Moved || outcome.Current != contract.State;
        }

        /// <summary>Handles one event or the timer; true when the contract may have changed (or time ran out), so it is read again.</summary>
        private async Task<bool> ActAsync(ContractSnapshot contract, Signal signal)
        {
            switch (signal.Name)
            {
                case null:
                    return true;
                case ContractLifecycleEvents.HealthReported when contract.State == ContractState.Provisioned && LifecycleSignals.StatusOf(signal.Payload) is "healthy":
                    await MoveAsync(contract.State, ContractState.Active);
                    return true;
                case ContractLifecycleEvents.Locked or ContractLifecycleEvents.ProvisioningReported:
                    return contract.State is ContractState.Accepted or ContractState.Provisioning;
                case ContractLifecycleEvents.Cancelled or ContractLifecycleEvents.DisputeChanged:
                    return true;
                default:
                    return false;
            }
        }

        /// <summary>
        /// The contract ended. If an agent may run an instance of it, its termination is asked for and the agent's report
        /// awaited (up to the termination wait); a contract that never reached provisioning has nothing to terminate.
        /// </summary>
        private async Task<LifecycleOutcome?> TerminateAsync(ContractSnapshot contract)
        {
            if (!contract.HasInstance)
            {
                Report("done", contract, null);
                return new LifecycleOutcome(Id, contract.State, null, $"{contract.State.Name()} with no instance recorded");
            }

            if (contract.TerminatedAt is { } terminatedAt)
            {
                Report("done", contract, null);
                return new LifecycleOutcome(Id, contract.State, terminatedAt, $"{contract.State.Name()}, instance terminated");
            }

            var requestedAt = await context.CallActivityAsync<DateTimeOffset>(nameof(RequestContractTermination), new TerminationRequest(Id, contract.State), Retry);
            var until = requestedAt.AddHours(input.TerminationWaitHours);
            while (MayGoOn)
            {
                Report("waiting-terminated", contract, until);
                var signal = await NextAsync(until);
                if (signal.Name is null or ContractLifecycleEvents.Terminated)
                {
                    // The agent API records the report before it raises the event; a raise it could not make is made
                    // good by the look at the end of the wait.
                    var now = await context.CallActivityAsync<ContractSnapshot>(nameof(ReadContractState), Id, Retry);
                    if (now.TerminatedAt is { } at)
                    {
                        Report("done", now, null);
                        return new LifecycleOutcome(Id, now.State, at, $"{now.State.Name()}, instance terminated");
                    }

                    if (signal.Name is null)
                    {
                        Report("done", now, null);
                        return new LifecycleOutcome(Id, now.State, null, $"{now.State.Name()}, no termination reported in {input.TerminationWaitHours} hours (still requested)");
                    }
                }
            }

            return ContinueAsNew();
        }

        /// <summary>
        /// Whether this generation goes on: after <see cref="EventsPerGeneration"/> events, once none waits to be handled,
        /// the instance continues as new (<see cref="ContinueAsNew"/>).
        /// </summary>
        private bool MayGoOn => events < EventsPerGeneration || waits.Values.Any(w => w.IsCompleted);

        /// <summary>The next generation reads the contract again, so it goes on where this one was; events still to come are kept for it.</summary>
        private LifecycleOutcome? ContinueAsNew()
        {
            context.ContinueAsNew(input with { Generation = input.Generation + 1 }, preserveUnprocessedEvents: true);
            return null;
        }

        private Task<LifecycleMoveOutcome> MoveAsync(ContractState from, ContractState to, RefundReason? reason = null) =>
            context.CallActivityAsync<LifecycleMoveOutcome>(nameof(MoveContractState), new LifecycleMove(Id, from, to, reason), Retry);

        /// <summary>
        /// The next event, or the timer (a signal without a name) when <paramref name="until"/> comes first. One wait per
        /// event name stays open until its event comes, whatever the phase, so no event is handed to a wait left behind.
        /// </summary>
        private async Task<Signal> NextAsync(DateTimeOffset? until)
        {
            foreach (var name in EventNames)
            {
                if (!waits.ContainsKey(name))
                {
                    waits[name] = context.WaitForExternalEvent<JsonNode?>(name);
                }
            }

            using var cancelTimer = new CancellationTokenSource();
            var candidates = EventNames.Select(name => (Task)waits[name]).ToList();
            Task? timer = null;
            if (until is { } fireAt)
            {
                timer = context.CreateTimer(fireAt.UtcDateTime, cancelTimer.Token);
                candidates.Add(timer);
            }

            var first = await Task.WhenAny(candidates);
            // The timer counts as an event too, so no generation goes on for ever, whatever it wakes up to.
            events++;
            if (first == timer)
            {
                lastEvent = "timer";
                return new Signal(null, null);
            }

            cancelTimer.Cancel();
            var arrived = EventNames.First(n => waits[n] == first);
            waits.Remove(arrived);
            lastEvent = arrived;
            return new Signal(arrived, await (Task<JsonNode?>)first);
        }

        private void Report(string phase, ContractSnapshot contract, DateTimeOffset? until)
        {
            Progress = new LifecycleProgress(phase, contract.State, until, events, lastEvent);
            context.SetCustomStatus(Progress);
        }
    }

    /// <summary>An event and what it carries (a reference type: the worker hands a null payload to the wait as null, which no struct can take).</summary>
    private sealed record Signal(string? Name, JsonNode? Payload);
}

/// <summary>
/// Reads what an event carries. The agent API raises each event with an object (.NET or camelCase names) and the
/// orchestration reads what was recorded instead, except the status of a health report (healthy, unhealthy, unknown),
/// kept in another table; a bare string is read as the status too. Anything else reads as no status, which changes nothing.
/// </summary>
public static class LifecycleSignals
{
    public static string? StatusOf(JsonNode? payload) => (payload switch
    {
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        JsonObject fields => fields.FirstOrDefault(f => string.Equals(f.Key, "status", StringComparison.OrdinalIgnoreCase)).Value is JsonValue text
            && text.GetValueKind() == JsonValueKind.String ? text.GetValue<string>() : null,
        _ => null,
    })?.Trim().ToLowerInvariant();
}
