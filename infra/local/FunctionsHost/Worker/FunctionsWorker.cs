using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace DecentCloud.FunctionsHost.Worker;

/// <summary>
/// A started worker and what it told the host: its gRPC server and process, the capabilities of its init response
/// (HttpUri, the worker's own ASP.NET Core endpoint that HTTP requests are proxied to), and its loaded functions.
/// </summary>
internal sealed partial class FunctionsWorker : IAsyncDisposable
{
    public const string HostVersion = "4.1000.0";

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan TerminateGrace = TimeSpan.FromSeconds(10);

    private readonly RpcServer server;
    private readonly WorkerProcess process;
    private readonly ILogger logger;

    private FunctionsWorker(RpcServer server, WorkerProcess process, WorkerChannel channel, ILogger logger)
    {
        this.server = server;
        this.process = process;
        this.logger = logger;
        Channel = channel;
    }

    public WorkerChannel Channel { get; }

    public IReadOnlyDictionary<string, string> Capabilities { get; private set; } = new Dictionary<string, string>();

    /// <summary>The worker's ASP.NET Core endpoint, when it integrates with ASP.NET Core (its <c>HttpUri</c> capability).</summary>
    public Uri? HttpUri { get; private set; }

    public IReadOnlyList<FunctionDescriptor> Functions { get; private set; } = [];

    /// <summary>Completes when the worker process has exited or its stream has closed.</summary>
    public Task Lost => Task.WhenAny(process.Exited, Channel.Closed);

    public static async Task<FunctionsWorker> StartAsync(
        string appDirectory,
        WorkerConfig config,
        IReadOnlyDictionary<string, string> environment,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger<FunctionsWorker>();
        var server = await RpcServer.StartAsync(loggers, cancellationToken);
        WorkerProcess? process = null;
        try
        {
            var workerId = Guid.NewGuid().ToString();
            var channel = server.Channels.Add(workerId);
            process = WorkerProcess.Start(config, appDirectory, server.Address, workerId, environment, loggers.CreateLogger<WorkerProcess>());
            var worker = new FunctionsWorker(server, process, channel, logger);
            await worker.InitializeAsync(appDirectory, cancellationToken);
            return worker;
        }
        catch
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }

            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Asks the worker to stop (WorkerTerminate), waits a little for it, then kills it; stops the gRPC server.</summary>
    public async ValueTask DisposeAsync()
    {
        await Channel.SendAsync(new StreamingMessage { WorkerTerminate = new WorkerTerminate { GracePeriod = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TerminateGrace) } });
        await process.StopAsync(TerminateGrace);
        Channel.Close(new WorkerUnavailableException("The host is stopping."));
        await process.DisposeAsync();
        await server.DisposeAsync();
        LogStopped(logger);
    }

    private async Task InitializeAsync(string appDirectory, CancellationToken cancellationToken)
    {
        var started = await Task.WhenAny(Channel.Connected, process.Exited, Task.Delay(ConnectTimeout, cancellationToken));
        if (started != Channel.Connected)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var why = process.ExitCode is { } code ? $"exited with code {code}" : $"did not connect within {ConnectTimeout.TotalSeconds} s";
            throw new InvalidOperationException($"The worker process {why}. Its last output:{Environment.NewLine}{process.RecentOutput()}");
        }

        var init = (await Channel.RequestAsync(
            new StreamingMessage
            {
                WorkerInitRequest = new WorkerInitRequest { HostVersion = HostVersion, WorkerDirectory = appDirectory, FunctionAppDirectory = appDirectory },
            },
            RequestTimeout,
            cancellationToken)).WorkerInitResponse;
        Check(init.Result, "initializing the worker");
        Capabilities = init.Capabilities.ToDictionary(StringComparer.Ordinal);
        HttpUri = Capabilities.TryGetValue("HttpUri", out var httpUri) && Uri.TryCreate(httpUri, UriKind.Absolute, out var uri) ? uri : null;
        LogInitialized(logger, init.WorkerVersion, HttpUri?.AbsoluteUri ?? "(none)");
        if (HttpUri is { } endpoint)
        {
            await WaitUntilListeningAsync(endpoint, cancellationToken);
        }

        var metadata = (await Channel.RequestAsync(
            new StreamingMessage { FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = appDirectory } },
            RequestTimeout,
            cancellationToken)).FunctionMetadataResponse;
        Check(metadata.Result, "reading the functions' metadata");
        if (metadata.UseDefaultMetadataIndexing)
        {
            throw new InvalidOperationException("The worker asks the host to index the functions itself (functions.metadata); this host only runs workers that index their own functions (workerIndexing in worker.config.json).");
        }

        var functions = new List<FunctionDescriptor>();
        foreach (var function in metadata.FunctionMetadataResults)
        {
            var loaded = (await Channel.RequestAsync(
                new StreamingMessage { FunctionLoadRequest = new FunctionLoadRequest { FunctionId = function.FunctionId, Metadata = function } },
                RequestTimeout,
                cancellationToken)).FunctionLoadResponse;
            Check(loaded.Result, $"loading function {function.Name}");
            functions.Add(FunctionDescriptor.From(function));
        }

        Functions = functions;
        var names = string.Join(", ", functions.Select(f => f.Name));
        LogLoaded(logger, functions.Count, names);
    }

    /// <summary>
    /// The worker reports its HTTP endpoint before its ASP.NET Core server listens on it; the host opens its own HTTP
    /// listener only once the worker's accepts connections, so a first request is not refused.
    /// </summary>
    private async Task WaitUntilListeningAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + ConnectTimeout;
        while (true)
        {
            using var probe = new System.Net.Sockets.TcpClient();
            try
            {
                await probe.ConnectAsync(endpoint.Host, endpoint.Port, cancellationToken);
                return;
            }
            catch (System.Net.Sockets.SocketException ex) when (DateTime.UtcNow < deadline && !process.Exited.IsCompleted)
            {
                LogNotListening(logger, ex.SocketErrorCode);
            }
            catch (System.Net.Sockets.SocketException ex)
            {
                throw new InvalidOperationException($"The worker's HTTP endpoint {endpoint} did not accept connections within {ConnectTimeout.TotalSeconds} s. Its last output:{Environment.NewLine}{process.RecentOutput()}", ex);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
        }
    }

    private static void Check(StatusResult result, string what)
    {
        if (result.Status != StatusResult.Types.Status.Success)
        {
            throw new InvalidOperationException($"The worker failed {what}: {result.Status} {result.Result}", WorkerException.From(result.Exception));
        }
    }

    [LoggerMessage(EventId = 1207, Level = LogLevel.Information, Message = "Worker {WorkerVersion} initialized; its HTTP endpoint is {HttpUri}")]
    private static partial void LogInitialized(ILogger logger, string workerVersion, string httpUri);

    [LoggerMessage(EventId = 1208, Level = LogLevel.Information, Message = "Loaded {Count} functions: {Functions}")]
    private static partial void LogLoaded(ILogger logger, int count, string functions);

    [LoggerMessage(EventId = 1219, Level = LogLevel.Debug, Message = "The worker's HTTP endpoint does not accept connections yet ({Error})")]
    private static partial void LogNotListening(ILogger logger, System.Net.Sockets.SocketError error);

    [LoggerMessage(EventId = 1209, Level = LogLevel.Information, Message = "Worker stopped")]
    private static partial void LogStopped(ILogger logger);
}
