using System.Net.Sockets;
using DecentCloud.Functions.Marketplace.Contracts;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Provisioning.Health;

/// <summary>
/// Timer, every 5 minutes: the platform's own check of each running instance (contract provisioned or active, instance
/// recorded, not terminated): a TCP connect to its SSH port within <c>PROBE_TIMEOUT_SECONDS</c>, one
/// <c>ContractProbes</c> row per probe. A provider cannot report its own uptime alone; these rows are the uptime figure.
/// </summary>
public sealed partial class ProbeContracts(ProvisioningStore store, HealthStore health, IOptions<ProvisioningOptions> options, TimeProvider time, ILogger<ProbeContracts> logger)
{
    [Function(nameof(ProbeContracts))]
    public async Task Run([TimerTrigger("20 */5 * * * *")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var (probed, up) = (0, 0);
        await Parallel.ForEachAsync(
            store.RunningInstancesAsync(cancellationToken),
            new ParallelOptions { MaxDegreeOfParallelism = settings.ProbeConcurrency, CancellationToken = cancellationToken },
            async (indexed, token) =>
            {
                if (await store.ContractAsync(indexed.ContractId, token) is not { CurrentState: ContractState.Provisioned or ContractState.Active } contract
                    || await store.InstanceAsync(indexed.ContractId, token) is not { } instance)
                {
                    return;
                }

                var probe = await ProbeAsync(contract, instance, settings, token);
                await health.AddProbeAsync(probe, token);
                Interlocked.Increment(ref probed);
                if (probe.Up)
                {
                    Interlocked.Increment(ref up);
                }
            });
        LogProbed(logger, probed, up, probed - up);
    }

    private async Task<ProbeRow> ProbeAsync(ContractEntity contract, InstanceRow instance, ProvisioningOptions settings, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var at = time.GetUtcNow();
        var target = $"{instance.ProbeHost}:{instance.SshPort}";
        string? error = null;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(settings.ProbeTimeout);
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(instance.ProbeHost, instance.SshPort, timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                error = "timeout";
            }
            catch (SocketException ex)
            {
                error = ex.SocketErrorCode.ToString();
            }
        }

        var latency = (int)time.GetElapsedTime(started).TotalMilliseconds;
        if (error is not null)
        {
            LogDown(logger, contract.PartitionKey, target, error);
        }

        return new ProbeRow
        {
            PartitionKey = ProvisioningKeys.Day(contract.PartitionKey, at),
            RowKey = ProvisioningKeys.Inverted(at),
            ContractId = contract.PartitionKey,
            ProviderKey = contract.ProviderKey,
            Target = target,
            Up = error is null,
            LatencyMs = latency,
            Error = error,
            At = at,
        };
    }

    [LoggerMessage(EventId = 10510, Level = LogLevel.Information, Message = "Probed {Probed} instances: {Up} up, {Down} down")]
    private static partial void LogProbed(ILogger logger, int probed, int up, int down);

    [LoggerMessage(EventId = 10511, Level = LogLevel.Information, Message = "Contract {ContractId}: no TCP connection to {Target} ({Error})")]
    private static partial void LogDown(ILogger logger, string contractId, string target, string error);
}
