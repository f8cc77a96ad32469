using Azure.Data.Tables;
using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Marketplace.Events;

namespace DecentCloud.Functions.Marketplace.Contracts;

/// <summary>
/// Timer: contracts left waiting too long (docs/contracts.md, "Timeouts"). Requested or pending for an hour: expired
/// (a paid one owes its payments back in full, written in the same transaction as the move). Accepted or provisioning
/// for an hour and not paid: provisioningfailed. A paid (or free) accepted contract belongs to its orchestration
/// (functions/Provisioning/Lifecycle), which times its provisioning out itself.
/// </summary>
public sealed partial class ExpireContracts(ContractStore store, RefundsOwed refunds, ContractEvents events, TimeProvider time, ILogger<ExpireContracts> logger)
{
    public static readonly TimeSpan Timeout = TimeSpan.FromHours(1);
    public const string Mover = "system:timeout";

    [Function(nameof(ExpireContracts))]
    public async Task Run([TimerTrigger("0 */5 * * * *")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var cutoff = now - Timeout;
        var moved = 0;
        // A scan of waiting contracts across partitions: fine at today's volume; an index by state is the next step.
        var filter = TableClient.CreateQueryFilter(
            $"RowKey eq {ContractEntity.ContractRowKey} and UpdatedAt lt {cutoff} and (State eq {"requested"} or State eq {"pending"} or State eq {"accepted"} or State eq {"provisioning"})");
        try
        {
            await foreach (var contract in store.Table.QueryAsync<ContractEntity>(filter, cancellationToken: cancellationToken))
            {
                if (await ExpireAsync(contract, now, cancellationToken))
                {
                    moved++;
                }
            }
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == StatusCodes.Status404NotFound && ex.ErrorCode == "TableNotFound")
        {
            // No contract was ever written on this storage account: nothing waits.
        }

        LogSwept(logger, moved);
    }

    private async Task<bool> ExpireAsync(ContractEntity contract, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var from = contract.CurrentState;
        var to = from is ContractState.Requested or ContractState.Pending ? ContractState.Expired : ContractState.ProvisioningFailed;
        if (!ContractStateMachine.CanMove(from, to)
            || (to == ContractState.ProvisioningFailed && new ContractPayment(contract.PriceMinor, contract.PaymentSucceeded).Settled))
        {
            return false;
        }

        contract.State = to.Name();
        contract.UpdatedAt = now;
        var move = new ContractMoveEntity { PartitionKey = contract.PartitionKey, RowKey = ContractMoveEntity.RowKeyFor(now), From = from.Name(), To = to.Name(), By = Mover, At = now };
        var owed = await refunds.ForMoveAsync(contract, from, to, now, cancellationToken);
        if (!await store.TryMoveAsync(contract, move, cancellationToken, owed))
        {
            // Someone moved it first (accepted, cancelled...): the next sweep looks again.
            return false;
        }

        await events.PublishAsync(to == ContractState.Expired ? EventSubscriptions.ContractExpired : EventSubscriptions.ContractProvisioningFailed, contract, cancellationToken);
        return true;
    }

    [LoggerMessage(EventId = 7110, Level = LogLevel.Information, Message = "Contract timeouts: {Moved} contracts expired or marked provisioningfailed")]
    private static partial void LogSwept(ILogger logger, int moved);
}
