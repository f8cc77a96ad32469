using DecentCloud.Functions.Marketplace.Events;

namespace DecentCloud.Functions.Marketplace.Contracts;

/// <summary>
/// Publishes the contract events after the write (payload the <see cref="ContractView"/>). There is no outbox yet:
/// a failed publish is logged and the request still succeeds, since the contract row is the truth. The contract's
/// orchestration subscribes (see <see cref="EventSubscriptions"/>); what a lost event would have told it, its sweep
/// (a paid accepted contract with no orchestration) and its own reading of the contract row make good.
/// </summary>
public sealed partial class ContractEvents(DomainEvents events, ILogger<ContractEvents> logger)
{
    /// <param name="id">The event's id when a retry must send the same event again (subscribers dedupe by it); new otherwise.</param>
    public async Task PublishAsync(string eventName, ContractEntity contract, CancellationToken cancellationToken, Guid? id = null)
    {
        try
        {
            await events.PublishAsync(eventName, contract.ToView(), id, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Whatever failed (storage, the network, a timeout), the move is committed: the caller must not be told otherwise.
            LogNotPublished(logger, ex, eventName, contract.PartitionKey);
        }
    }

    [LoggerMessage(EventId = 7101, Level = LogLevel.Error, Message = "{EventName} event for contract {ContractId} not sent")]
    private static partial void LogNotPublished(ILogger logger, Exception exception, string eventName, string contractId);
}
