using System.Collections.Concurrent;
using System.Globalization;
using Grpc.Core;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace DecentCloud.FunctionsHost.Worker;

/// <summary>
/// The host's end of one worker's FunctionRpc EventStream. Requests are matched to their responses by request id
/// (the worker echoes it), invocations by invocation id. A gRPC stream takes one write at a time: each sender writes its
/// message itself, in turn, behind a gate (first come, first written), so an invocation reaches the worker without
/// waiting for a writer loop to be scheduled. The worker's log messages (RpcLog) become log lines of the host, under the
/// trace id of their invocation.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The write gate's wait handle is never asked for (AvailableWaitHandle), so the gate holds nothing to dispose.")]
internal sealed partial class WorkerChannel(string workerId, ILoggerFactory loggers)
{
    private readonly SemaphoreSlim writeGate = new(1, 1);
    private readonly TaskCompletionSource<IServerStreamWriter<StreamingMessage>> writer = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<StreamingMessage>> requests = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Invocation> invocations = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ILogger logger = loggers.CreateLogger<WorkerChannel>();
    private Exception? closedBecause;
    private CancellationToken streamAborted;

    public string WorkerId { get; } = workerId;

    /// <summary>Completes when the worker has opened its stream (its StartStream message).</summary>
    public Task Connected => connected.Task;

    /// <summary>Completes when the stream has ended.</summary>
    public Task Closed => closed.Task;

    /// <summary>Runs the stream the worker opened, until either side ends it.</summary>
    public async Task ServeAsync(IAsyncStreamReader<StreamingMessage> incoming, IServerStreamWriter<StreamingMessage> outgoingStream, CancellationToken cancellationToken)
    {
        if (!connected.TrySetResult())
        {
            throw new InvalidOperationException($"Worker {WorkerId} opened a second stream.");
        }

        streamAborted = cancellationToken;
        writer.TrySetResult(outgoingStream);
        Task reading;

        // The stream lives as long as the worker: its messages are read outside the gRPC call's logging scopes and
        // trace, so the worker's log lines carry their own invocation's trace id, or none.
        using (ExecutionContext.SuppressFlow())
        {
            reading = Task.Run(() => ReadAsync(incoming, cancellationToken), CancellationToken.None);
        }

        await reading;

        // The stream is closed by now (ReadAsync closes it as it ends): a write under way is let finish before the call
        // returns, after which gRPC allows none; every later sender finds the stream closed.
        await writeGate.WaitAsync(CancellationToken.None);
        writeGate.Release();
    }

    /// <summary>Sends a request and waits for the worker's answer to it.</summary>
    public async Task<StreamingMessage> RequestAsync(StreamingMessage message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var requestId = Guid.NewGuid().ToString();
        message.RequestId = requestId;
        var answer = new TaskCompletionSource<StreamingMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        requests[requestId] = answer;
        try
        {
            ThrowIfClosed();
            await WriteAsync(message);
            return await answer.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Worker {WorkerId} did not answer {message.ContentCase} within {timeout.TotalSeconds} s.", ex);
        }
        finally
        {
            requests.TryRemove(requestId, out _);
        }
    }

    /// <summary>
    /// Sends an invocation and waits for its response. When <paramref name="cancellationToken"/> fires, the worker is
    /// asked to cancel the invocation (InvocationCancel), and its response is still awaited: the function decides how
    /// it ends.
    /// </summary>
    public async Task<InvocationResponse> InvokeAsync(InvocationRequest request, string function, string? traceId, CancellationToken cancellationToken)
    {
        var invocation = new Invocation(function, traceId);
        invocations[request.InvocationId] = invocation;
        try
        {
            ThrowIfClosed();
            await WriteAsync(new StreamingMessage { RequestId = Guid.NewGuid().ToString(), InvocationRequest = request });
            await using var cancel = cancellationToken.Register(() => _ = SendAsync(
                new StreamingMessage { InvocationCancel = new InvocationCancel { InvocationId = request.InvocationId } }));
            return await invocation.Response.Task;
        }
        finally
        {
            invocations.TryRemove(request.InvocationId, out _);
        }
    }

    /// <summary>Sends a message that has no answer (WorkerTerminate, InvocationCancel); a stream already gone is not an error here.</summary>
    public async Task SendAsync(StreamingMessage message)
    {
        try
        {
            await WriteAsync(message);
        }
        catch (WorkerUnavailableException ex)
        {
            LogNotSent(logger, ex, message.ContentCase);
        }
    }

    /// <summary>Fails every request still waiting and stops writing; the stream then ends.</summary>
    public void Close(Exception reason)
    {
        if (Interlocked.CompareExchange(ref closedBecause, reason, null) is not null)
        {
            return;
        }

        writer.TrySetException(reason);
        foreach (var request in requests.Values)
        {
            request.TrySetException(reason);
        }

        foreach (var invocation in invocations.Values)
        {
            invocation.Response.TrySetException(reason);
        }

        connected.TrySetException(reason);
        closed.TrySetResult();
    }

    private void ThrowIfClosed()
    {
        if (closedBecause is { } reason)
        {
            throw new WorkerUnavailableException($"Worker {WorkerId} is no longer connected.", reason);
        }
    }

    private async Task WriteAsync(StreamingMessage message)
    {
        ThrowIfClosed();
        IServerStreamWriter<StreamingMessage> stream;
        try
        {
            stream = await writer.Task;
        }
        catch (Exception ex) when (ex is not WorkerUnavailableException)
        {
            throw new WorkerUnavailableException($"Worker {WorkerId} is no longer connected.", ex);
        }

        await writeGate.WaitAsync(CancellationToken.None);
        try
        {
            ThrowIfClosed();
            await stream.WriteAsync(message, streamAborted);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
        {
            var failure = new WorkerUnavailableException($"Could not write to worker {WorkerId}.", ex);
            Close(failure);
            throw failure;
        }
        finally
        {
            writeGate.Release();
        }
    }

    private async Task ReadAsync(IAsyncStreamReader<StreamingMessage> incoming, CancellationToken cancellationToken)
    {
        Exception? failure = null;
        try
        {
            while (await incoming.MoveNext(cancellationToken))
            {
                Receive(incoming.Current);
            }
        }
        catch (Exception ex) when (ex is IOException or Grpc.Core.RpcException or OperationCanceledException)
        {
            failure = ex;
        }
        finally
        {
            Close(new WorkerUnavailableException($"The stream of worker {WorkerId} ended.", failure));
        }
    }

    private void Receive(StreamingMessage message)
    {
        switch (message.ContentCase)
        {
            case StreamingMessage.ContentOneofCase.RpcLog:
                Forward(message.RpcLog);
                return;
            case StreamingMessage.ContentOneofCase.InvocationResponse:
                if (invocations.TryGetValue(message.InvocationResponse.InvocationId, out var invocation))
                {
                    invocation.Response.TrySetResult(message.InvocationResponse);
                }
                else
                {
                    LogUnmatched(logger, message.ContentCase, message.InvocationResponse.InvocationId);
                }

                return;
            case StreamingMessage.ContentOneofCase.WorkerHeartbeat:
            case StreamingMessage.ContentOneofCase.StartStream:
            case StreamingMessage.ContentOneofCase.None:
                // None: the .NET worker's empty reply to WorkerTerminate.
                return;
            default:
                if (requests.TryGetValue(message.RequestId, out var request))
                {
                    request.TrySetResult(message);
                }
                else
                {
                    LogUnmatched(logger, message.ContentCase, message.RequestId);
                }

                return;
        }
    }

    private void Forward(RpcLog log)
    {
        var target = loggers.CreateLogger(string.IsNullOrEmpty(log.Category) ? "Worker" : log.Category);
        var level = log.Level switch
        {
            RpcLog.Types.Level.Trace => LogLevel.Trace,
            RpcLog.Types.Level.Debug => LogLevel.Debug,
            RpcLog.Types.Level.Information => LogLevel.Information,
            RpcLog.Types.Level.Warning => LogLevel.Warning,
            RpcLog.Types.Level.Error => LogLevel.Error,
            RpcLog.Types.Level.Critical => LogLevel.Critical,
            _ => LogLevel.None,
        };
        if (!target.IsEnabled(level))
        {
            return;
        }

        // The .NET worker sends EventId.ToString(): the event's name when it has one (a [LoggerMessage] method's), else its number.
        var eventId = int.TryParse(log.EventId, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) ? new EventId(id) : new EventId(0, log.EventId);
        var scope = invocations.TryGetValue(log.InvocationId, out var invocation)
            ? target.BeginScope(new InvocationScope(invocation.TraceId, log.InvocationId, invocation.Function))
            : null;
        using (scope)
        {
            target.Log(level, eventId, log.Message, WorkerException.From(log.Exception), static (message, _) => message);
        }
    }

    [LoggerMessage(EventId = 1234, Level = LogLevel.Debug, Message = "{Kind} was not sent: the worker's stream is closed")]
    private static partial void LogNotSent(ILogger logger, Exception exception, StreamingMessage.ContentOneofCase kind);

    [LoggerMessage(EventId = 1205, Level = LogLevel.Warning, Message = "The worker sent {Kind} for {Id}, which the host is not waiting for")]
    private static partial void LogUnmatched(ILogger logger, StreamingMessage.ContentOneofCase kind, string id);

    private sealed class Invocation(string function, string? traceId)
    {
        public string Function { get; } = function;

        public string? TraceId { get; } = traceId;

        public TaskCompletionSource<InvocationResponse> Response { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>The logging scope of a worker's log line: its invocation's trace id (printed as the host's own lines print it), id and function.</summary>
    private sealed class InvocationScope(string? traceId, string invocationId, string function) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly KeyValuePair<string, object?>[] values =
        [
            KeyValuePair.Create<string, object?>("TraceId", traceId),
            KeyValuePair.Create<string, object?>("InvocationId", invocationId),
            KeyValuePair.Create<string, object?>("Function", function),
        ];

        public int Count => values.Length;

        public KeyValuePair<string, object?> this[int index] => values[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)values).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"TraceId:{traceId} InvocationId:{invocationId} Function:{function}";
    }
}
