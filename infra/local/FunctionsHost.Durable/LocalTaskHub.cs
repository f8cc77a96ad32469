using System.Text.Json;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DecentCloud.FunctionsHost.Durable;

/// <summary>
/// One running task hub for the local Functions host: the Durable Task Framework's Azure Storage provider over the app's
/// storage account; the DurableTask gRPC sidecar (<see cref="TaskHubGrpcServer"/>) on a loopback port, which the worker's
/// durable client reaches through <see cref="RpcBaseUrl"/> (as the Durable extension's own listener in Azure); and a
/// dispatcher that takes the hub's orchestrator and activity work items from the sidecar and runs each as a function
/// invocation (<see cref="IDurableFunctionInvoker"/>). Several local hosts on one storage account share the hub's
/// partitions and work items, as instances of a Function App do.
/// </summary>
public sealed partial class LocalTaskHub : IAsyncDisposable
{
    /// <summary>How long a stopping hub waits for the provider to release its partitions.</summary>
    private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How many work items of a kind the sidecar may hold per function allowed to run at once (see <see cref="StartAsync"/>).</summary>
    private const int FetchAheadFactor = 4;

    private readonly LocalTaskHubOptions options;
    private readonly AzureStorageOrchestrationService service;
    private readonly ILogger logger;
    private readonly WebApplication sidecar;
    private readonly GrpcChannel channel;
    private readonly CancellationTokenSource stopping = new();
    private readonly WorkItemDispatcher dispatcher;
    private readonly Task dispatching;

    private LocalTaskHub(LocalTaskHubOptions options, AzureStorageOrchestrationService service, WebApplication sidecar, Uri rpcBaseUrl, IDurableFunctionInvoker invoker, ILoggerFactory loggers)
    {
        this.options = options;
        this.service = service;
        this.sidecar = sidecar;
        logger = loggers.CreateLogger<LocalTaskHub>();
        RpcBaseUrl = rpcBaseUrl;
        ClientBindingJson = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["taskHubName"] = options.TaskHubName,
            ["connectionName"] = options.ConnectionName,
            ["rpcBaseUrl"] = rpcBaseUrl.ToString(),
            ["requiredQueryStringParameters"] = "",
            ["httpBaseUrl"] = null,
            ["maxGrpcMessageSizeInBytes"] = options.ClientMaxGrpcMessageSizeInBytes,
            ["grpcHttpClientTimeout"] = JsonSerializer.Serialize(options.ClientGrpcHttpClientTimeout),
        });
        channel = GrpcChannel.ForAddress(rpcBaseUrl, new GrpcChannelOptions { LoggerFactory = loggers });
        dispatcher = new WorkItemDispatcher(channel, invoker, options, loggers.CreateLogger<WorkItemDispatcher>());
        dispatching = dispatcher.RunAsync(stopping.Token);
    }

    /// <summary>The sidecar's address: the <c>rpcBaseUrl</c> of the durable client binding.</summary>
    public Uri RpcBaseUrl { get; }

    public string TaskHubName => options.TaskHubName;

    /// <summary>A channel to the sidecar, for a client in the host itself (tests, admin tools).</summary>
    public GrpcChannel Channel => channel;

    /// <summary>Creates the hub's queues, tables and blobs if they are missing, starts the sidecar and the dispatcher.</summary>
    public static async Task<LocalTaskHub> StartAsync(LocalTaskHubOptions options, IDurableFunctionInvoker invoker, ILoggerFactory loggers, CancellationToken cancellationToken = default)
    {
        var settings = ProviderSettings(options, loggers);
        // The sidecar's dispatchers stop fetching while this many work items of a kind are out, and look again only every
        // 500 ms: with the functions' own limit there, a busy hub would idle half a second each time a slot frees (100
        // orchestrations at once took four times as long as the Durable Task Framework's own dispatchers, which wait on a
        // semaphore). The sidecar fetches ahead instead, and the dispatcher runs at most the functions' limit at once.
        settings.MaxConcurrentTaskOrchestrationWorkItems = options.MaxConcurrentOrchestratorFunctions * FetchAheadFactor;
        settings.MaxConcurrentTaskActivityWorkItems = options.MaxConcurrentActivityFunctions * FetchAheadFactor;
        var service = new AzureStorageOrchestrationService(settings);
        try
        {
            await service.CreateIfNotExistsAsync();
        }
        catch (Exception ex)
        {
            throw new TaskHubUnavailableException($"creating task hub {options.TaskHubName} in the storage account", ex);
        }

        // The provider's creation takes no cancellation token: a caller that gave up meanwhile gets no sidecar started.
        cancellationToken.ThrowIfCancellationRequested();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<IOrchestrationService>(service);
        builder.Services.AddSingleton<IOrchestrationServiceClient>(service);
        builder.Services.AddSingleton<LocalTaskHubServer>();
        var sidecar = builder.Build();
        sidecar.MapGrpcService<LocalTaskHubServer>();
        await sidecar.StartAsync(cancellationToken);
        var address = sidecar.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new LocalTaskHub(options, service, sidecar, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)), invoker, loggers);
    }

    /// <summary>
    /// The Azure Storage provider's settings for a hub with these options: what this host runs its hub with, and what
    /// anything else that drives the same hub the same way (the benchmarks' Durable Task Framework side) uses.
    /// </summary>
    public static AzureStorageOrchestrationServiceSettings ProviderSettings(LocalTaskHubOptions options, ILoggerFactory loggers) => new()
    {
        StorageAccountClientProvider = new StorageAccountClientProvider(options.ConnectionString),
        TaskHubName = options.TaskHubName,
        PartitionCount = options.PartitionCount,
        MaxQueuePollingInterval = options.MaxQueuePollingInterval,
        WorkItemQueueVisibilityTimeout = options.WorkItemVisibilityTimeout,
        ControlQueueVisibilityTimeout = options.ControlQueueVisibilityTimeout,
        WorkerId = options.WorkerId,

        // The table partition manager (the provider's default) reads and renews every acquire interval.
        UseTablePartitionManagement = true,
        LeaseAcquireInterval = options.PartitionAcquireInterval,
        LeaseRenewInterval = options.PartitionAcquireInterval,
        LeaseInterval = options.PartitionLeaseInterval,
        MaxConcurrentTaskOrchestrationWorkItems = options.MaxConcurrentOrchestratorFunctions,
        MaxConcurrentTaskActivityWorkItems = options.MaxConcurrentActivityFunctions,
        LoggerFactory = loggers,
    };

    /// <summary>
    /// The value of a <c>durableClient</c> input binding, as the Durable extension gives it to an isolated worker: the
    /// worker's DurableTaskClient connects to <c>rpcBaseUrl</c> over gRPC. The .NET worker's extension reads
    /// <c>maxGrpcMessageSizeInBytes</c> as a number that is 0 when missing, and makes it its channel's largest
    /// received message, so without it every answer of the sidecar fails with gRPC <c>ResourceExhausted</c>;
    /// <c>grpcHttpClientTimeout</c> is a TimeSpan serialized as JSON, inside a string.
    /// </summary>
    /// <remarks>The same for every invocation: written once, when the hub starts. <c>httpBaseUrl</c> (for the
    /// status-query URLs of <c>CreateCheckStatusResponse</c>) is not given: this host has no Durable HTTP API.</remarks>
    public string ClientBindingJson { get; }

    /// <summary>
    /// Stops dispatching (in-flight work items are handed out again once their visibility timeout passes), releases the
    /// hub's partitions to the other hosts, then stops the sidecar.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await dispatching;
        dispatcher.Dispose();
        await ReleasePartitionsAsync();
        await sidecar.StopAsync();
        await sidecar.DisposeAsync();
        channel.Dispose();
        stopping.Dispose();
    }

    /// <summary>
    /// Stops the provider, which releases this host's partition leases so that another host takes them at once. The
    /// sidecar would stop it too, but only once its own dispatchers have no work item left, and a work item this host
    /// gave up on stays theirs (the sidecar's abandon does nothing): the leases would then be held until the process
    /// ends, and renewed while it lives. Forced: sessions still open are dropped, their messages come back by themselves.
    /// </summary>
    private async Task ReleasePartitionsAsync()
    {
        try
        {
            await service.StopAsync(isForced: true).WaitAsync(ReleaseTimeout);
        }
        catch (TimeoutException)
        {
            LogReleaseSlow(logger, options.TaskHubName, ReleaseTimeout.TotalSeconds);
        }
        catch (Exception ex)
        {
            // Whatever the provider (storage, its partition table) throws, the hub still stops; the leases run out.
            LogReleaseFailed(logger, ex, options.TaskHubName);
        }
    }

    [LoggerMessage(EventId = 1309, Level = LogLevel.Warning, Message = "Task hub {TaskHub} did not release its partitions within {Seconds} s; they pass to another host when their leases run out")]
    private static partial void LogReleaseSlow(ILogger logger, string taskHub, double seconds);

    [LoggerMessage(EventId = 1310, Level = LogLevel.Warning, Message = "Task hub {TaskHub} could not release its partitions; they pass to another host when their leases run out")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string taskHub);
}

/// <summary>The task hub's queues, tables and containers could not be created: the storage account did not answer, or refused.</summary>
public sealed class TaskHubUnavailableException : Exception
{
    public TaskHubUnavailableException()
    {
    }

    public TaskHubUnavailableException(string message)
        : base(message)
    {
    }

    public TaskHubUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
