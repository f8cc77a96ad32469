using System.Net;
using System.Net.Sockets;
using DecentCloud.Functions.Marketplace.Contracts;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Provisioning.Health;

/// <summary>
/// Timer, every 5 minutes: the platform's own check of each running instance (contract provisioned or active, instance
/// recorded, not terminated): a TCP connect to its SSH port within <c>PROBE_TIMEOUT_SECONDS</c>, one
/// <c>ContractProbes</c> row per probe; an address that is not public is refused, not connected to. A provider cannot report its own uptime alone; these rows are the uptime figure.
/// </summary>
public sealed partial class ProbeContracts(ProvisioningStore store, HealthStore health, IOptions<ProvisioningOptions> options, TimeProvider time, ILogger<ProbeContracts> logger)
{
    [Function(nameof(ProbeContracts))]
    public async Task Run([TimerTrigger("20 */5 * * * *")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var (probed, up, refused) = (0, 0, 0);
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
                else if (probe.Refused is not null)
                {
                    Interlocked.Increment(ref refused);
                }
            });
        LogProbed(logger, probed, up, probed - up - refused, refused);
    }

    private async Task<ProbeRow> ProbeAsync(ContractEntity contract, InstanceRow instance, ProvisioningOptions settings, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var at = time.GetUtcNow();
        var target = $"{instance.ProbeHost}:{instance.SshPort}";
        var (error, refused) = await ConnectAsync(instance, settings, cancellationToken);
        var latency = (int)time.GetElapsedTime(started).TotalMilliseconds;
        if (refused is not null)
        {
            LogRefused(logger, contract.PartitionKey, target, refused);
        }
        else if (error is not null)
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
            Up = error is null && refused is null,
            LatencyMs = latency,
            Error = error,
            Refused = refused,
            At = at,
        };
    }

    /// <summary>
    /// Resolves the instance's host once and connects to the addresses found, not to the name again, so the answer checked
    /// is the answer connected to (a name cannot switch to an internal address in between). Unless
    /// <c>PROBE_ALLOW_PRIVATE_ADDRESSES</c>, a name with any address that is not public is not connected to at all.
    /// </summary>
    private static async Task<(string? Error, string? Refused)> ConnectAsync(InstanceRow instance, ProvisioningOptions settings, CancellationToken cancellationToken)
    {
        // An empty name would resolve to this machine's own addresses.
        if (string.IsNullOrEmpty(instance.ProbeHost))
        {
            return ("noAddress", null);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.ProbeTimeout);
        try
        {
            var addresses = await Dns.GetHostAddressesAsync(instance.ProbeHost, timeout.Token);
            if (addresses.Length == 0)
            {
                return ("noAddress", null);
            }

            if (!settings.AllowPrivateAddresses
                && addresses.Select(a => (Address: a, Kind: PublicAddresses.NotPublicBecause(a))).FirstOrDefault(a => a.Kind is not null) is { Kind: { } kind } found)
            {
                return (null, $"{found.Address} is not a public address ({kind})");
            }

            using var tcp = new TcpClient();
            await tcp.ConnectAsync(addresses, instance.SshPort, timeout.Token);
            return (null, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ("timeout", null);
        }
        catch (SocketException ex)
        {
            return (ex.SocketErrorCode.ToString(), null);
        }
    }

    [LoggerMessage(EventId = 10510, Level = LogLevel.Information, Message = "Probed {Probed} instances: {Up} up, {Down} down, {Refused} refused (address not public)")]
    private static partial void LogProbed(ILogger logger, int probed, int up, int down, int refused);

    [LoggerMessage(EventId = 10511, Level = LogLevel.Information, Message = "Contract {ContractId}: no TCP connection to {Target} ({Error})")]
    private static partial void LogDown(ILogger logger, string contractId, string target, string error);

    [LoggerMessage(EventId = 10512, Level = LogLevel.Warning, Message = "Contract {ContractId}: not probed, {Target} is refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string contractId, string target, string reason);
}
