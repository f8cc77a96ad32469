using System.Collections.Concurrent;
using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace DecentCloud.FunctionsHost.Worker;

/// <summary>
/// The gRPC server the worker connects to (HTTP/2 on a free loopback port, apart from the HTTP triggers' listener):
/// it serves FunctionRpc's EventStream and hands each stream to the channel of the worker whose StartStream it opens with.
/// </summary>
internal sealed class RpcServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private RpcServer(WebApplication app, Uri address)
    {
        this.app = app;
        Address = address;
    }

    /// <summary>The address workers are given (<c>--functions-uri</c>).</summary>
    public Uri Address { get; }

    public WorkerChannels Channels => app.Services.GetRequiredService<WorkerChannels>();

    public static async Task<RpcServer> StartAsync(ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = WorkerProcess.MaxMessageLength;
            grpc.MaxSendMessageSize = WorkerProcess.MaxMessageLength;
        });
        builder.Services.AddSingleton<WorkerChannels>();

        // Started and stopped by the host alone: Ctrl-C must not take the worker's connection away before the worker
        // has been told to stop.
        builder.Services.AddSingleton<IHostLifetime, HostControlledLifetime>();
        var app = builder.Build();
        app.MapGrpcService<FunctionRpcService>();
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.Single()
            ?? throw new InvalidOperationException("Kestrel reported no address for the gRPC server.");
        return new RpcServer(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync(CancellationToken.None);
        await app.DisposeAsync();
    }
}

/// <summary>A lifetime that neither listens for signals nor prints start-up messages.</summary>
internal sealed class HostControlledLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The workers this host started, by worker id.</summary>
internal sealed class WorkerChannels(ILoggerFactory loggers)
{
    private readonly ConcurrentDictionary<string, WorkerChannel> channels = new(StringComparer.Ordinal);

    public WorkerChannel Add(string workerId) => channels.GetOrAdd(workerId, id => new WorkerChannel(id, loggers));

    public bool TryGet(string workerId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out WorkerChannel? channel) =>
        channels.TryGetValue(workerId, out channel);
}

internal sealed partial class FunctionRpcService(WorkerChannels channels, ILogger<FunctionRpcService> logger) : FunctionRpc.FunctionRpcBase
{
    public override async Task EventStream(IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream, ServerCallContext context)
    {
        if (!await requestStream.MoveNext(context.CancellationToken))
        {
            return;
        }

        var first = requestStream.Current;
        if (first.ContentCase != StreamingMessage.ContentOneofCase.StartStream || !channels.TryGet(first.StartStream.WorkerId, out var channel))
        {
            LogUnknownWorker(logger, first.ContentCase, first.StartStream?.WorkerId);
            throw new Grpc.Core.RpcException(new Status(StatusCode.FailedPrecondition, "The stream must open with StartStream naming a worker this host started."));
        }

        await channel.ServeAsync(requestStream, responseStream, context.CancellationToken);
    }

    [LoggerMessage(EventId = 1206, Level = LogLevel.Warning, Message = "Refused a FunctionRpc stream that opened with {Kind} for worker {WorkerId}")]
    private static partial void LogUnknownWorker(ILogger logger, StreamingMessage.ContentOneofCase kind, string? workerId);
}
