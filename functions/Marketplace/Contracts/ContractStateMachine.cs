using System.Collections.Frozen;

namespace DecentCloud.Functions.Marketplace.Contracts;

/// <summary>What the move check needs to know about the money: provisioned and active need a succeeded payment unless the price is 0 (docs/contracts.md, "States and moves").</summary>
public readonly record struct ContractPayment(long PriceMinor, bool PaymentSucceeded)
{
    public static ContractPayment Free => new(0, false);

    public bool Settled => PriceMinor == 0 || PaymentSucceeded;
}

public enum MoveRefusal
{
    /// <summary>The current state is terminal: no move leaves it.</summary>
    Terminal,

    /// <summary>The table has no move from the current state to the requested one.</summary>
    NotAllowed,

    /// <summary>The move is in the table but the target needs a succeeded payment.</summary>
    PaymentRequired,
}

/// <summary>The answer of <see cref="ContractStateMachine.Move"/>: either the new state, or a refusal that names the current state.</summary>
public abstract record MoveResult
{
    private MoveResult()
    {
    }

    public sealed record Moved(ContractState From, ContractState To) : MoveResult;

    public sealed record Refused(ContractState Current, ContractState Requested, MoveRefusal Refusal, string Reason) : MoveResult;
}

/// <summary>The one place that holds the contract moves; docs/contracts.md ("States and moves") copies this table.</summary>
public static class ContractStateMachine
{
    private static readonly FrozenDictionary<ContractState, FrozenSet<ContractState>> Moves =
        new Dictionary<ContractState, FrozenSet<ContractState>>
        {
            [ContractState.Requested] = Set(ContractState.Pending, ContractState.Accepted, ContractState.Rejected, ContractState.Cancelled, ContractState.Expired),
            [ContractState.Pending] = Set(ContractState.Accepted, ContractState.Rejected, ContractState.Cancelled, ContractState.Expired),
            [ContractState.Accepted] = Set(ContractState.Provisioning, ContractState.ProvisioningFailed, ContractState.Rejected, ContractState.Cancelled),
            [ContractState.Provisioning] = Set(ContractState.Provisioned, ContractState.ProvisioningFailed, ContractState.Cancelled),
            [ContractState.Provisioned] = Set(ContractState.Active, ContractState.Paused, ContractState.Cancelled),
            [ContractState.Active] = Set(ContractState.Paused, ContractState.Cancelled, ContractState.Expired),
            [ContractState.Paused] = Set(ContractState.Active, ContractState.Provisioned, ContractState.Cancelled, ContractState.Expired),
            [ContractState.Rejected] = Set(),
            [ContractState.Cancelled] = Set(),
            [ContractState.Expired] = Set(),
            [ContractState.ProvisioningFailed] = Set(),
        }.ToFrozenDictionary();

    /// <summary>The states a contract in <paramref name="from"/> may move to (empty for a terminal state).</summary>
    public static IReadOnlySet<ContractState> MovesFrom(ContractState from) =>
        Moves.TryGetValue(from, out var targets)
            ? targets
            : throw new ArgumentOutOfRangeException(nameof(from), from, "Unknown contract state.");

    public static bool IsTerminal(ContractState state) => MovesFrom(state).Count == 0;

    /// <summary>Whether the table allows the move; <see cref="Move"/> also applies the payment rule.</summary>
    public static bool CanMove(ContractState from, ContractState to) => MovesFrom(from).Contains(to);

    /// <summary>Whether the target state needs the payment settled (succeeded, or a price of 0).</summary>
    public static bool RequiresPayment(ContractState state) =>
        state is ContractState.Provisioned or ContractState.Active;

    public static MoveResult Move(ContractState from, ContractState to, ContractPayment payment)
    {
        if (IsTerminal(from))
        {
            return new MoveResult.Refused(from, to, MoveRefusal.Terminal,
                $"The contract is {from.Name()}, a terminal state: it cannot move to {to.Name()}.");
        }

        if (!CanMove(from, to))
        {
            return new MoveResult.Refused(from, to, MoveRefusal.NotAllowed,
                $"The contract is {from.Name()}: it cannot move to {to.Name()}. Allowed from {from.Name()}: {string.Join(", ", AllowedNames(from))}.");
        }

        if (RequiresPayment(to) && !payment.Settled)
        {
            return new MoveResult.Refused(from, to, MoveRefusal.PaymentRequired,
                $"The contract is {from.Name()}: it cannot become {to.Name()} before its payment of {payment.PriceMinor} minor units has succeeded.");
        }

        return new MoveResult.Moved(from, to);
    }

    private static IEnumerable<string> AllowedNames(ContractState from) =>
        MovesFrom(from).Order().Select(state => state.Name());

    private static FrozenSet<ContractState> Set(params ContractState[] states) => states.ToFrozenSet();
}
