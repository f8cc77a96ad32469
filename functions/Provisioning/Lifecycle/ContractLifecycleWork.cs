using System.Text.Json.Serialization;
using DecentCloud.Functions.Billing;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Marketplace.Events;

namespace DecentCloud.Functions.Provisioning.Lifecycle;

/// <summary>Where the contract's Stripe disputes stand, from its dispute rows: a lost one ends the contract, an open one pauses it.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DisputeStanding>))]
public enum DisputeStanding
{
    None,
    Open,
    Resolved,
    Lost,
}

/// <summary>
/// What the orchestration decides on, read from the contract's partition each time it wakes: the contract row, its
/// history (when it was accepted, provisioned, paused), billing's dispute rows, and what the agent API recorded (the
/// lock, the progress reports, the instance, the termination request and report; docs/provisioning.md, "Storage").
/// The recorded state is the truth; the events only wake the orchestration.
/// </summary>
/// <param name="ReadyAt">When the contract became both accepted and paid: the provisioning timeout counts from here.</param>
/// <param name="TermEndsAt">Provisioned time + the term + the time paused (closed pauses), once provisioned.</param>
/// <param name="PausedFrom">The state a paused contract resumes to (the one it was paused from).</param>
/// <param name="Locked">An agent took the contract's lock (its lease may have passed since).</param>
/// <param name="Report">The newest of the agents' reports that decides provisioning: provisioned or failed; null when none.</param>
/// <param name="HasInstance">An instance is recorded for the contract: once it ends, the agent must terminate it.</param>
public sealed record ContractSnapshot(
    string ContractId,
    bool Exists,
    ContractState State,
    bool Settled,
    DateTimeOffset ReadyAt,
    DateTimeOffset? ProvisionedAt,
    DateTimeOffset? TermEndsAt,
    ContractState? PausedFrom,
    DisputeStanding Dispute,
    bool Locked,
    string? Report,
    bool HasInstance,
    DateTimeOffset? TerminationRequestedAt,
    DateTimeOffset? TerminatedAt)
{
    public static ContractSnapshot Missing(string contractId) =>
        new(contractId, false, ContractState.Requested, false, default, null, null, null, DisputeStanding.None, false, null, false, null, null);
}

/// <summary>A move the orchestration asks for; <paramref name="Reason"/> names a refund reason other than the move's own (a lost dispute).</summary>
public sealed record LifecycleMove(string ContractId, ContractState From, ContractState To, RefundReason? Reason = null);

/// <summary>The answer to a move: made now, found made already, or not made because the contract is elsewhere (<see cref="Current"/>).</summary>
public sealed record LifecycleMoveOutcome(bool Moved, ContractState Current, string Detail);

public sealed record TerminationRequest(string ContractId, ContractState Reason);

/// <summary>
/// The orchestration's reads and writes, each idempotent: a move reads the contract first and does nothing when it is
/// already there; the termination request is added once. Every move goes through
/// <see cref="ContractStateMachine"/>, with its history row and the refunds owed (<see cref="RefundsOwed"/>) in one
/// transaction, as <see cref="ExpireContracts"/> does.
/// </summary>
public sealed partial class ContractLifecycleWork(ContractStore store, ContractRows rows, ProvisioningStore provisioning, RefundsOwed refunds, ContractEvents events, TimeProvider time, ILogger<ContractLifecycleWork> logger)
{
    /// <summary>The <c>By</c> of the history rows this orchestration writes.</summary>
    public const string Mover = "system:provisioning";

    private const int MaxWriteAttempts = 5;

    public async Task<ContractSnapshot> ReadAsync(string contractId, CancellationToken cancellationToken)
    {
        if (await store.FindAsync(contractId, cancellationToken) is not { } contract)
        {
            return ContractSnapshot.Missing(contractId);
        }

        var state = contract.CurrentState;
        var moves = await store.MovesAsync(contract.PartitionKey, cancellationToken);
        var acceptedAt = moves.Where(m => m.To == ContractState.Accepted.Name()).Select(m => (DateTimeOffset?)m.At).Min() ?? contract.CreatedAt;
        var readyAt = contract.PaidAt is { } paidAt && paidAt > acceptedAt ? paidAt : acceptedAt;
        var clock = RefundsOwed.ServiceClock(moves, contract.Hours, time.GetUtcNow());
        DateTimeOffset? termEndsAt = clock.ProvisionedAt is { } provisionedAt ? provisionedAt + TimeSpan.FromHours(contract.Hours) + clock.Paused : null;
        ContractState? pausedFrom = state == ContractState.Paused
            && moves.FirstOrDefault(m => m.To == ContractState.Paused.Name()) is { } paused
            && ContractStateNames.TryParse(paused.From, out var from) ? from : null;
        var disputes = await rows.ListAsync<DisputeEntity>(contract.PartitionKey, DisputeEntity.RowKeyPrefix, cancellationToken);
        var id = contract.PartitionKey;
        var report = (await provisioning.ReportsAsync(id, cancellationToken)).FirstOrDefault(r => r.Status is "provisioned" or "failed")?.Status;
        var locked = await provisioning.LockAsync(id, cancellationToken) is not null;
        var hasInstance = await provisioning.InstanceAsync(id, cancellationToken) is not null;
        var mark = await provisioning.TerminationMarkAsync(id, cancellationToken);
        var terminated = await provisioning.TerminatedAsync(id, cancellationToken);
        return new ContractSnapshot(
            id, true, state, new ContractPayment(contract.PriceMinor, contract.PaymentSucceeded).Settled, readyAt, clock.ProvisionedAt, termEndsAt, pausedFrom,
            Standing(disputes), locked, report, hasInstance, mark?.At, terminated?.At);
    }

    /// <summary>A lost dispute outweighs an open one, an open one a resolved one (won, or an inquiry closed).</summary>
    public static DisputeStanding Standing(IEnumerable<DisputeEntity> disputes)
    {
        var statuses = disputes.Select(d => d.Status).ToList();
        return statuses.Contains("lost") ? DisputeStanding.Lost
            : statuses.Any(s => !DisputeEntity.IsClosed(s)) ? DisputeStanding.Open
            : statuses.Count > 0 ? DisputeStanding.Resolved
            : DisputeStanding.None;
    }

    public async Task<LifecycleMoveOutcome> MoveAsync(LifecycleMove request, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            var contract = await store.FindAsync(request.ContractId, cancellationToken)
                ?? throw new InvalidOperationException($"contract {request.ContractId} does not exist; it cannot move to {request.To.Name()}");
            var current = contract.CurrentState;
            if (current == request.To)
            {
                return new LifecycleMoveOutcome(false, current, $"already {current.Name()}");
            }

            if (current != request.From)
            {
                return new LifecycleMoveOutcome(false, current, $"is {current.Name()}, not {request.From.Name()}");
            }

            if (ContractStateMachine.Move(current, request.To, new ContractPayment(contract.PriceMinor, contract.PaymentSucceeded)) is MoveResult.Refused refused)
            {
                LogMoveRefused(logger, contract.PartitionKey, current, request.To, refused.Reason);
                return new LifecycleMoveOutcome(false, current, refused.Reason);
            }

            var now = time.GetUtcNow();
            contract.State = request.To.Name();
            contract.UpdatedAt = now;
            var move = new ContractMoveEntity
            {
                PartitionKey = contract.PartitionKey,
                RowKey = ContractMoveEntity.RowKeyFor(now),
                From = current.Name(),
                To = request.To.Name(),
                By = Mover,
                At = now,
            };
            // A paid contract that ends owes its payments back, written with the move: both or neither.
            var owed = await refunds.ForMoveAsync(contract, current, request.To, now, cancellationToken, request.Reason);
            if (await store.TryMoveAsync(contract, move, cancellationToken, owed))
            {
                LogMoved(logger, contract.PartitionKey, current, request.To, owed.Count);
                if (EventFor(request.To) is { } eventName)
                {
                    await events.PublishAsync(eventName, contract, cancellationToken);
                }

                return new LifecycleMoveOutcome(true, request.To, $"moved from {current.Name()}");
            }
        }

        throw new InvalidOperationException($"moving contract {request.ContractId} to {request.To.Name()}: the contract kept changing ({MaxWriteAttempts} attempts)");
    }

    private static string? EventFor(ContractState to) => to switch
    {
        ContractState.ProvisioningFailed => EventSubscriptions.ContractProvisioningFailed,
        ContractState.Expired => EventSubscriptions.ContractExpired,
        ContractState.Cancelled => EventSubscriptions.ContractCancelled,
        _ => null,
    };

    /// <summary>Asks the provider's agent to terminate the contract's instance (once); answers when it was first asked.</summary>
    public async Task<DateTimeOffset> RequestTerminationAsync(TerminationRequest request, CancellationToken cancellationToken)
    {
        if (await provisioning.TerminationMarkAsync(request.ContractId, cancellationToken) is { } marked)
        {
            return marked.At;
        }

        await provisioning.MarkForTerminationAsync(request.ContractId, request.Reason.Name(), time.GetUtcNow(), cancellationToken);
        var mark = await provisioning.TerminationMarkAsync(request.ContractId, cancellationToken)
            ?? throw new InvalidOperationException($"the termination request of contract {request.ContractId} was written and cannot be read back");
        LogTerminationRequested(logger, request.ContractId, mark.Reason);
        return mark.At;
    }

    [LoggerMessage(EventId = 7300, Level = LogLevel.Information, Message = "Contract {ContractId} moved from {From} to {To} by its orchestration ({Refunds} refunds owed)")]
    private static partial void LogMoved(ILogger logger, string contractId, ContractState from, ContractState to, int refunds);

    [LoggerMessage(EventId = 7301, Level = LogLevel.Warning, Message = "Contract {ContractId}: the orchestration's move from {From} to {To} was refused: {Reason}")]
    private static partial void LogMoveRefused(ILogger logger, string contractId, ContractState from, ContractState to, string reason);

    [LoggerMessage(EventId = 7302, Level = LogLevel.Information, Message = "Contract {ContractId} ended ({Reason}) with an instance that may run: its termination is requested")]
    private static partial void LogTerminationRequested(ILogger logger, string contractId, string reason);

}
