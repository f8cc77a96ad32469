using Azure.Data.Tables;
using DecentCloud.Functions.Hosting.Timers;
using DecentCloud.Functions.Marketplace.Events;

namespace DecentCloud.Functions.Marketplace.Contracts;

/// <summary>
/// Timer: contracts left waiting too long (DOMAIN.md). Requested or pending for an hour: expired. Accepted or
/// provisioning for an hour with no result: provisioningfailed. A paid one gets its full refund request in the
/// same transaction as the move (DOMAIN.md fix: a paid contract never expires without its refund).
/// </summary>
public sealed partial class ExpireContracts(ContractStore store, ContractEvents events, TimeProvider time, ILogger<ExpireContracts> logger) : ITimerFunction
{
    public static readonly TimeSpan Timeout = TimeSpan.FromHours(1);
    public const string Mover = "system:timeout";

    /// <summary>Refunds above this wait for an admin (minor units); a full refund of a big contract is still a big refund.</summary>
    public const long ApprovalThresholdMinor = 100_000;

    public async Task Run(TimerInfo timer, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var cutoff = now - Timeout;
        var moved = 0;
        // A scan of waiting contracts across partitions: fine at today's volume; an index by state is the next step.
        var filter = TableClient.CreateQueryFilter(
            $"RowKey eq {ContractEntity.ContractRowKey} and UpdatedAt lt {cutoff} and (State eq {"requested"} or State eq {"pending"} or State eq {"accepted"} or State eq {"provisioning"})");
        await foreach (var contract in store.Table.QueryAsync<ContractEntity>(filter, cancellationToken: cancellationToken))
        {
            if (await ExpireAsync(contract, now, cancellationToken))
            {
                moved++;
            }
        }

        LogSwept(logger, moved);
    }

    private async Task<bool> ExpireAsync(ContractEntity contract, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var from = contract.CurrentState;
        var to = from is ContractState.Requested or ContractState.Pending ? ContractState.Expired : ContractState.ProvisioningFailed;
        if (!ContractStateMachine.CanMove(from, to))
        {
            return false;
        }

        RefundRequestEntity? refund = null;
        if (contract.PaymentSucceeded && contract.PriceMinor > 0)
        {
            var reason = to == ContractState.Expired ? RefundReason.ExpiredWaitingForProvider : RefundReason.ProvisioningFailed;
            var outcome = Refunds.Compute(new RefundInput(contract.PriceMinor, 0, contract.Hours, null, now, TimeSpan.Zero, reason), ApprovalThresholdMinor);
            refund = new RefundRequestEntity
            {
                PartitionKey = contract.PartitionKey,
                RefundMinor = outcome.RefundMinor,
                Currency = contract.Currency,
                Reason = reason.ToString(),
                AwaitsAdminApproval = outcome.AwaitsAdminApproval,
                RequestedAt = now,
            };
        }

        contract.State = to.Name();
        contract.UpdatedAt = now;
        var move = new ContractMoveEntity { PartitionKey = contract.PartitionKey, RowKey = ContractMoveEntity.RowKeyFor(now), From = from.Name(), To = to.Name(), By = Mover, At = now };
        if (!await store.TryMoveAsync(contract, move, cancellationToken, refund))
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
