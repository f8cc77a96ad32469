using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues.Models;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Marketplace.Events;
using DecentCloud.Functions.Platform.Queues;
using DurableTask.Core.Exceptions;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Provisioning.Lifecycle;

/// <summary>
/// Starts a contract's orchestration once the contract is both accepted and paid, and hands it the renter's and Stripe's
/// news. Starting is idempotent: one instance per contract (<see cref="ContractLifecycleEvents.InstanceId"/>), never
/// started again once it exists in any status (an admin restarts a failed one).
/// </summary>
public sealed partial class ContractLifecycleStarter(ContractStore store, IOptions<ContractLifecycleOptions> options, ILogger<ContractLifecycleStarter> logger)
{
    /// <summary>Accepted or further and not ended, with its payment settled (paid, or free).</summary>
    public static bool IsReady(ContractEntity contract) =>
        contract.CurrentState is ContractState.Accepted or ContractState.Provisioning or ContractState.Provisioned or ContractState.Active or ContractState.Paused
        && new ContractPayment(contract.PriceMinor, contract.PaymentSucceeded).Settled;

    public async Task<bool> StartIfReadyAsync(DurableTaskClient client, string contractId, CancellationToken cancellationToken)
    {
        if (await store.FindAsync(contractId, cancellationToken) is not { } contract)
        {
            LogNoContract(logger, contractId);
            return false;
        }

        return await StartIfReadyAsync(client, contract, cancellationToken);
    }

    public async Task<bool> StartIfReadyAsync(DurableTaskClient client, ContractEntity contract, CancellationToken cancellationToken)
    {
        if (!IsReady(contract))
        {
            LogNotReady(logger, contract.PartitionKey, contract.State, contract.PaymentSucceeded);
            return false;
        }

        var id = ContractLifecycleEvents.InstanceId(contract.PartitionKey);
        if (await client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellationToken) is { } existing)
        {
            LogAlreadyStarted(logger, id, existing.RuntimeStatus);
            return false;
        }

        try
        {
            // The task hub refuses the id while any instance under it exists. Triggers racing past the look-up above all
            // schedule it, and the task hub keeps the first start and drops the others (a duplicate ExecutionStarted):
            // the instance starts once, and an instance that runs is never started over.
            var start = new StartOrchestrationOptions(id).WithDedupeStatuses(
                OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Suspended,
                OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated);
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(ContractLifecycle), ContractLifecycleInput.For(contract.PartitionKey, options.Value), start, cancellationToken);
        }
        catch (OrchestrationAlreadyExistsException)
        {
            LogAlreadyStarted(logger, id, OrchestrationRuntimeStatus.Pending);
            return false;
        }

        LogStarted(logger, id);
        return true;
    }

    /// <summary>Raises <paramref name="eventName"/> on the contract's instance; one that does not exist or has ended is logged and skipped.</summary>
    public async Task RaiseAsync(DurableTaskClient client, string contractId, string eventName, object? payload, CancellationToken cancellationToken)
    {
        var id = ContractLifecycleEvents.InstanceId(contractId.Trim().ToLowerInvariant());
        var instance = await client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellationToken);
        if (instance is null)
        {
            LogNoInstance(logger, eventName, id);
            return;
        }

        if (instance.IsCompleted)
        {
            LogInstanceEnded(logger, eventName, id, instance.RuntimeStatus);
            return;
        }

        await client.RaiseEventAsync(id, eventName, payload, cancellationToken);
        LogRaised(logger, eventName, id);
    }

    [LoggerMessage(EventId = 7310, Level = LogLevel.Information, Message = "Contract orchestration {InstanceId} started")]
    private static partial void LogStarted(ILogger logger, string instanceId);

    [LoggerMessage(EventId = 7311, Level = LogLevel.Information, Message = "Contract orchestration {InstanceId} is {Status} already; nothing started")]
    private static partial void LogAlreadyStarted(ILogger logger, string instanceId, OrchestrationRuntimeStatus status);

    [LoggerMessage(EventId = 7312, Level = LogLevel.Information, Message = "Contract {ContractId} is not ready for its orchestration ({State}, paid: {Paid}); nothing started")]
    private static partial void LogNotReady(ILogger logger, string contractId, string state, bool paid);

    [LoggerMessage(EventId = 7316, Level = LogLevel.Warning, Message = "Contract {ContractId} does not exist; no orchestration started")]
    private static partial void LogNoContract(ILogger logger, string contractId);

    [LoggerMessage(EventId = 7313, Level = LogLevel.Information, Message = "{EventName} raised on contract orchestration {InstanceId}")]
    private static partial void LogRaised(ILogger logger, string eventName, string instanceId);

    [LoggerMessage(EventId = 7314, Level = LogLevel.Information, Message = "{EventName} not raised: contract orchestration {InstanceId} does not exist")]
    private static partial void LogNoInstance(ILogger logger, string eventName, string instanceId);

    [LoggerMessage(EventId = 7317, Level = LogLevel.Information, Message = "{EventName} not raised: contract orchestration {InstanceId} has ended ({Status})")]
    private static partial void LogInstanceEnded(ILogger logger, string eventName, string instanceId, OrchestrationRuntimeStatus status);
}

/// <summary>
/// Queue <c>contract-lifecycle</c>, subscribed to the contract events (docs/workflows.md, "Contract lifecycle"):
/// accepted or paid starts the contract's orchestration when it is both; cancelled or rejected (recorded, with its
/// refund, by the endpoint that moved it) raises <c>Cancelled</c>; a dispute's change (recorded by billing) raises
/// <c>DisputeChanged</c>. A redelivered message starts nothing new and raises an event the orchestration reads as
/// "look again".
/// </summary>
public sealed class SignalContractLifecycle(ContractLifecycleStarter starter)
{
    public const string QueueName = "contract-lifecycle";

    [Function(nameof(SignalContractLifecycle))]
    public async Task Run([QueueTrigger(QueueName)] QueueMessage queued, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken)
    {
        var envelope = QueueJson.Read<DomainEvent<JsonElement>>(queued);
        switch (envelope.Name)
        {
            case EventSubscriptions.ContractAccepted or EventSubscriptions.ContractPaid:
                await starter.StartIfReadyAsync(client, Payload<ContractView>(envelope).Id, cancellationToken);
                break;
            case EventSubscriptions.ContractCancelled or EventSubscriptions.ContractRejected:
                await starter.RaiseAsync(client, Payload<ContractView>(envelope).Id, ContractLifecycleEvents.Cancelled, new { state = Payload<ContractView>(envelope).State }, cancellationToken);
                break;
            case EventSubscriptions.ContractDisputeChanged:
                var dispute = Payload<ContractDisputeChanged>(envelope);
                await starter.RaiseAsync(client, dispute.ContractId, ContractLifecycleEvents.DisputeChanged, dispute, cancellationToken);
                break;
            default:
                throw new InvalidDataException($"message {queued.MessageId} carries the event '{envelope.Name}', which the contract lifecycle does not subscribe to");
        }
    }

    private static T Payload<T>(DomainEvent<JsonElement> envelope) =>
        envelope.Payload.Deserialize<T>(QueueJson.Options) ?? throw new InvalidDataException($"event {envelope.Id} ({envelope.Name}) has no payload");
}

/// <summary>
/// Timer, the backstop of the events: a paid (or free) contract accepted or provisioning with no orchestration gets one
/// (a lost contract-paid event, a contract accepted before this orchestration existed).
/// </summary>
public sealed partial class SweepContractLifecycles(ContractStore store, ContractLifecycleStarter starter, ILogger<SweepContractLifecycles> logger)
{
    [Function(nameof(SweepContractLifecycles))]
    public async Task Run([TimerTrigger("40 */5 * * * *")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken)
    {
        var started = 0;
        // A scan across partitions, as ExpireContracts does: fine at today's volume; an index by state is the next step.
        var filter = TableClient.CreateQueryFilter(
            $"RowKey eq {ContractEntity.ContractRowKey} and (State eq {"accepted"} or State eq {"provisioning"}) and (PaymentSucceeded eq {true} or PriceMinor eq {0L})");
        try
        {
            await foreach (var contract in store.Table.QueryAsync<ContractEntity>(filter, cancellationToken: cancellationToken))
            {
                if (await starter.StartIfReadyAsync(client, contract, cancellationToken))
                {
                    started++;
                }
            }
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == StatusCodes.Status404NotFound && ex.ErrorCode == "TableNotFound")
        {
            // No contract was ever written on this storage account: nothing waits.
        }

        LogSwept(logger, started);
    }

    [LoggerMessage(EventId = 7315, Level = LogLevel.Information, Message = "Contract orchestration sweep: {Started} orchestrations started for paid accepted contracts that had none")]
    private static partial void LogSwept(ILogger logger, int started);
}
