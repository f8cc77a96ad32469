using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Identity;
using DecentCloud.Functions.Marketplace.Events;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Contracts;

/// <summary><c>POST /api/v1/contracts/{id}/accept</c>, signed by the provider.</summary>
public sealed class AcceptContract(ContractStore store, RefundsOwed refunds, ContractEvents events, TimeProvider time)
{
    [EndpointSummary("Accept a contract")]
    [EndpointDescription("Signed by the contract's provider (403 for any other key). 409 naming the current state if the contract cannot move to accepted "
        + "or changed concurrently; 404 if there is no such contract.")]
    [Function(nameof(AcceptContract))]
    [Signed]
    public Task<Results<Ok<ContractView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/contracts/{id}/accept")] HttpRequest request, string id, CancellationToken cancellationToken) =>
        ContractMoves.MoveAsync(store, refunds, events, time, id, ContractState.Accepted, ContractParty.Provider, "accept", EventSubscriptions.ContractAccepted, request.HttpContext, cancellationToken);
}

/// <summary><c>POST /api/v1/contracts/{id}/reject</c>, signed by the provider.</summary>
public sealed class RejectContract(ContractStore store, RefundsOwed refunds, ContractEvents events, TimeProvider time)
{
    [EndpointSummary("Reject a contract")]
    [EndpointDescription("Signed by the contract's provider (403 for any other key). 409 naming the current state if the contract cannot move to rejected "
        + "or changed concurrently; 404 if there is no such contract.")]
    [Function(nameof(RejectContract))]
    [Signed]
    public Task<Results<Ok<ContractView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/contracts/{id}/reject")] HttpRequest request, string id, CancellationToken cancellationToken) =>
        ContractMoves.MoveAsync(store, refunds, events, time, id, ContractState.Rejected, ContractParty.Provider, "reject", EventSubscriptions.ContractRejected, request.HttpContext, cancellationToken);
}

/// <summary><c>POST /api/v1/contracts/{id}/cancel</c>, signed by the renter.</summary>
public sealed class CancelContract(ContractStore store, RefundsOwed refunds, ContractEvents events, TimeProvider time)
{
    [EndpointSummary("Cancel a contract")]
    [EndpointDescription("Signed by the contract's renter (403 for any other key). 409 naming the current state if the contract cannot move to cancelled "
        + "or changed concurrently; 404 if there is no such contract.")]
    [Function(nameof(CancelContract))]
    [Signed]
    public Task<Results<Ok<ContractView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/contracts/{id}/cancel")] HttpRequest request, string id, CancellationToken cancellationToken) =>
        ContractMoves.MoveAsync(store, refunds, events, time, id, ContractState.Cancelled, ContractParty.Renter, "cancel", EventSubscriptions.ContractCancelled, request.HttpContext, cancellationToken);
}

internal enum ContractParty
{
    Renter,
    Provider,
}

internal static class ContractMoves
{
    public static async Task<Results<Ok<ContractView>, ProblemHttpResult>> MoveAsync(
        ContractStore store, RefundsOwed refunds, ContractEvents events, TimeProvider time, string id, ContractState to, ContractParty party, string action, string eventName,
        HttpContext context, CancellationToken cancellationToken)
    {
        if (await store.FindAsync(id, cancellationToken) is not { } contract)
        {
            return ContractProblems.NotFound(id);
        }

        var caller = SignedCaller.Of(context);
        var allowed = party == ContractParty.Renter ? caller.Is(contract.RenterKey) : caller.Is(contract.ProviderKey);
        if (!allowed)
        {
            return ContractProblems.WrongParty(action, party == ContractParty.Renter ? "renter" : "provider");
        }

        var from = contract.CurrentState;
        if (ContractStateMachine.Move(from, to, new ContractPayment(contract.PriceMinor, contract.PaymentSucceeded)) is MoveResult.Refused refused)
        {
            return ContractProblems.MoveRefused(refused.Reason);
        }

        var now = time.GetUtcNow();
        contract.State = to.Name();
        contract.UpdatedAt = now;
        var move = new ContractMoveEntity
        {
            PartitionKey = contract.PartitionKey,
            RowKey = ContractMoveEntity.RowKeyFor(now),
            From = from.Name(),
            To = to.Name(),
            By = caller.PublicKeyHex,
            At = now,
        };
        // A paid contract that ends owes its payments back, written with the move: both or neither.
        var owed = await refunds.ForMoveAsync(contract, from, to, now, cancellationToken);
        if (!await store.TryMoveAsync(contract, move, cancellationToken, owed))
        {
            var current = await store.FindAsync(id, cancellationToken);
            return current is null ? ContractProblems.NotFound(id) : ContractProblems.ChangedConcurrently(current.CurrentState);
        }

        await events.PublishAsync(eventName, contract, cancellationToken);
        return TypedResults.Ok(contract.ToView());
    }
}
