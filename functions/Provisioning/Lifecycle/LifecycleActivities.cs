namespace DecentCloud.Functions.Provisioning.Lifecycle;

/// <summary>Activity: the contract's recorded state, as <see cref="ContractLifecycle"/> decides on it.</summary>
public sealed class ReadContractState(ContractLifecycleWork work)
{
    [Function(nameof(ReadContractState))]
    public Task<ContractSnapshot> Run([ActivityTrigger] string contractId, CancellationToken cancellationToken) => work.ReadAsync(contractId, cancellationToken);
}

/// <summary>Activity: one move of the contract through the state machine, with its history row and the refunds owed.</summary>
public sealed class MoveContractState(ContractLifecycleWork work)
{
    [Function(nameof(MoveContractState))]
    public Task<LifecycleMoveOutcome> Run([ActivityTrigger] LifecycleMove move, CancellationToken cancellationToken) => work.MoveAsync(move, cancellationToken);
}

/// <summary>Activity: asks the provider's agent to terminate the ended contract's instance (the <see cref="TerminationMark"/> row); answers when it was asked.</summary>
public sealed class RequestContractTermination(ContractLifecycleWork work)
{
    [Function(nameof(RequestContractTermination))]
    public Task<DateTimeOffset> Run([ActivityTrigger] TerminationRequest request, CancellationToken cancellationToken) => work.RequestTerminationAsync(request, cancellationToken);
}
