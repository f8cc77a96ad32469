using System.Text.Json;

using DecentCloud.Functions.Marketplace.Contracts;

using static DecentCloud.Functions.Marketplace.Contracts.ContractState;

namespace DecentCloud.Tests.Marketplace;

public sealed class ContractStateMachineTests
{
    private static readonly ContractPayment Paid = new(PriceMinor: 10_00, PaymentSucceeded: true);
    private static readonly ContractPayment Unpaid = new(PriceMinor: 10_00, PaymentSucceeded: false);

    // Written out again from docs/contracts.md ("States and moves") rather than read from the machine, so a change to the table shows up here.
    private static readonly Dictionary<ContractState, ContractState[]> DomainTable = new()
    {
        [Requested] = [Pending, Accepted, Rejected, Cancelled, Expired],
        [Pending] = [Accepted, Rejected, Cancelled, Expired],
        [Accepted] = [Provisioning, ProvisioningFailed, Rejected, Cancelled],
        [Provisioning] = [Provisioned, ProvisioningFailed, Cancelled],
        [Provisioned] = [Active, Paused, Cancelled],
        [Active] = [Paused, Cancelled, Expired],
        [Paused] = [Active, Provisioned, Cancelled, Expired],
        [Rejected] = [],
        [Cancelled] = [],
        [Expired] = [],
        [ProvisioningFailed] = [],
    };

    public static TheoryData<ContractState, ContractState> AllowedMoves()
    {
        var data = new TheoryData<ContractState, ContractState>();
        foreach (var (from, targets) in DomainTable)
        {
            foreach (var to in targets)
            {
                data.Add(from, to);
            }
        }

        return data;
    }

    public static TheoryData<ContractState, ContractState> RefusedMoves()
    {
        var data = new TheoryData<ContractState, ContractState>();
        foreach (var from in Enum.GetValues<ContractState>())
        {
            foreach (var to in Enum.GetValues<ContractState>().Where(to => !DomainTable[from].Contains(to)))
            {
                data.Add(from, to);
            }
        }

        return data;
    }

    public static TheoryData<ContractState> TerminalStates() => [Rejected, Cancelled, Expired, ProvisioningFailed];

    [Fact]
    public void The_table_covers_every_state_and_every_pair_is_either_allowed_or_refused()
    {
        Assert.Equal(Enum.GetValues<ContractState>().Order(), DomainTable.Keys.Order());
        Assert.Equal(121, AllowedMoves().Count + RefusedMoves().Count);
    }

    [Theory]
    [MemberData(nameof(AllowedMoves))]
    public void Every_move_of_the_domain_table_is_allowed(ContractState from, ContractState to)
    {
        Assert.True(ContractStateMachine.CanMove(from, to));
        var moved = Assert.IsType<MoveResult.Moved>(ContractStateMachine.Move(from, to, Paid));
        Assert.Equal(from, moved.From);
        Assert.Equal(to, moved.To);
    }

    [Theory]
    [MemberData(nameof(RefusedMoves))]
    public void Every_other_move_is_refused_naming_the_current_state(ContractState from, ContractState to)
    {
        Assert.False(ContractStateMachine.CanMove(from, to));
        var refused = Assert.IsType<MoveResult.Refused>(ContractStateMachine.Move(from, to, Paid));
        Assert.Equal(from, refused.Current);
        Assert.Equal(to, refused.Requested);
        Assert.Contains($"The contract is {from.Name()}", refused.Reason, StringComparison.Ordinal);
        Assert.Contains(to.Name(), refused.Reason, StringComparison.Ordinal);
        Assert.Equal(ContractStateMachine.IsTerminal(from) ? MoveRefusal.Terminal : MoveRefusal.NotAllowed, refused.Refusal);
    }

    [Theory]
    [MemberData(nameof(TerminalStates))]
    public void Terminal_states_have_no_moves(ContractState state)
    {
        Assert.True(ContractStateMachine.IsTerminal(state));
        Assert.Empty(ContractStateMachine.MovesFrom(state));
    }

    [Fact]
    public void Only_rejected_cancelled_expired_and_provisioningfailed_are_terminal()
    {
        var terminal = Enum.GetValues<ContractState>().Where(ContractStateMachine.IsTerminal);
        Assert.Equal([Rejected, Cancelled, Expired, ProvisioningFailed], terminal);
    }

    [Theory]
    [InlineData(Provisioning, Provisioned)]
    [InlineData(Provisioned, Active)]
    [InlineData(Paused, Active)]
    [InlineData(Paused, Provisioned)]
    public void Provisioned_and_active_are_refused_until_the_payment_has_succeeded(ContractState from, ContractState to)
    {
        var refused = Assert.IsType<MoveResult.Refused>(ContractStateMachine.Move(from, to, Unpaid));
        Assert.Equal(MoveRefusal.PaymentRequired, refused.Refusal);
        Assert.Equal(from, refused.Current);
        Assert.Contains($"The contract is {from.Name()}", refused.Reason, StringComparison.Ordinal);
        Assert.Contains("payment", refused.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Provisioning, Provisioned)]
    [InlineData(Provisioned, Active)]
    [InlineData(Paused, Active)]
    public void A_free_contract_becomes_provisioned_and_active_without_a_payment(ContractState from, ContractState to) =>
        Assert.IsType<MoveResult.Moved>(ContractStateMachine.Move(from, to, ContractPayment.Free));

    [Theory]
    [InlineData(Requested, Accepted)]
    [InlineData(Accepted, Provisioning)]
    [InlineData(Provisioning, ProvisioningFailed)]
    [InlineData(Active, Paused)]
    [InlineData(Active, Cancelled)]
    [InlineData(Active, Expired)]
    public void Moves_to_other_states_do_not_need_the_payment(ContractState from, ContractState to) =>
        Assert.IsType<MoveResult.Moved>(ContractStateMachine.Move(from, to, Unpaid));

    [Fact]
    public void States_serialize_as_their_lowercase_names_and_read_back()
    {
        foreach (var state in Enum.GetValues<ContractState>())
        {
            var json = JsonSerializer.Serialize(state);
            Assert.Equal($"\"{state.Name()}\"", json);
            Assert.Equal(state, JsonSerializer.Deserialize<ContractState>(json));
            Assert.True(ContractStateNames.TryParse(state.Name(), out var parsed));
            Assert.Equal(state, parsed);
        }

        Assert.Equal("\"provisioningfailed\"", JsonSerializer.Serialize(ProvisioningFailed));
    }

    [Theory]
    [InlineData("Active")]
    [InlineData("provisioning_failed")]
    [InlineData("")]
    [InlineData(null)]
    public void Names_other_than_the_lowercase_ones_are_not_states(string? name) =>
        Assert.False(ContractStateNames.TryParse(name, out _));
}
