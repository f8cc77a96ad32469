using System.Diagnostics;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using DecentCloud.FunctionsHost.Storage;
using DecentCloud.FunctionsHost.Worker;

namespace DecentCloud.FunctionsHost.Queues;

/// <summary>
/// Runs one queue function on one instance with the Functions host's semantics: fetch up to batchSize messages, invoke
/// the worker for each in parallel, fetch again when newBatchThreshold remain; back off exponentially to
/// maxPollingInterval while the queue is empty; delete a message when its invocation succeeded (and its outputs were
/// written); on failure make it visible again after visibilityTimeout, and after maxDequeueCount failures move it
/// unchanged (with its time-to-live) to <c>{queue}-poison</c>. Any number of instances may listen to one queue: the
/// storage service hands each message to one of them at a time.
/// </summary>
internal sealed partial class QueueListener(
    FunctionDescriptor function,
    string queueName,
    QueueServiceClient queues,
    QueueHostOptions settings,
    FunctionInvoker invoker,
    TimeProvider time,
    ILogger<QueueListener> logger) : BackgroundService
{
    public const string PoisonSuffix = "-poison";

    /// <summary>
    /// How long a fetched message stays hidden while its function runs. It is renewed every third of that, so a long
    /// function keeps its message, and a crashed instance's message returns within a minute.
    /// </summary>
    internal static readonly TimeSpan MessageLease = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan MinimumPollingInterval = TimeSpan.FromMilliseconds(100);

    private readonly QueueClient queue = queues.GetQueueClient(queueName);
    private readonly QueueClient poison = queues.GetQueueClient(queueName + PoisonSuffix);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await EnsureQueuesAsync(stoppingToken);
        LogListening(logger, function.Name, queueName, settings.BatchSize, settings.EffectiveNewBatchThreshold, settings.MaxDequeueCount);

        // Invocations see the host stopping (the worker is asked to cancel them), and a message whose invocation was cut
        // short by it is released for another instance rather than counted as a failure.
        var running = new HashSet<Task>();
        var delay = MinimumPollingInterval;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                while (running.Count > settings.EffectiveNewBatchThreshold)
                {
                    running.Remove(await Task.WhenAny(running));
                }

                QueueMessage[] batch;
                try
                {
                    batch = (await queue.ReceiveMessagesAsync(settings.BatchSize, MessageLease, stoppingToken)).Value;
                }
                catch (Exception ex) when (StorageRetry.IsStorageFailure(ex, stoppingToken))
                {
                    LogReceiveFailed(logger, ex, function.Name, queueName);
                    batch = [];
                }

                if (batch.Length == 0)
                {
                    await Task.Delay(Jitter(delay), time, stoppingToken);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, settings.MaxPollingInterval.Ticks));
                    continue;
                }

                delay = MinimumPollingInterval;
                foreach (var message in batch)
                {
                    running.Add(ProcessAsync(message, stoppingToken));
                }

                running.RemoveWhere(task => task.IsCompleted);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping: fall through and let the running invocations settle their messages.
        }

        await Task.WhenAll(running);
        LogStopped(logger, function.Name, queueName);
    }

    private Task EnsureQueuesAsync(CancellationToken cancellationToken) =>
        StorageRetry.UntilReadyAsync(
            async () =>
            {
                await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
                await poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            },
            $"creating queues {queueName} and {poison.Name} for function {function.Name}",
            time,
            logger,
            cancellationToken);

    private async Task ProcessAsync(QueueMessage message, CancellationToken stoppingToken)
    {
        // Yield first so that one slow message never holds up the dispatch of the rest of its batch.
        await Task.Yield();
        using var activity = HostActivity.Start($"queue {function.Name}");
        var lease = new MessageLease(queue, message, MessageLease, time, logger);
        var started = Stopwatch.GetTimestamp();
        Func<Task> settle;
        try
        {
            await invoker.InvokeAsync(function, QueueTriggerData.Request(function.Trigger, message), stoppingToken);
            settle = () => DeleteAsync(lease, message, Stopwatch.GetElapsedTime(started));
        }
        catch (Exception ex) when (stoppingToken.IsCancellationRequested || ex is WorkerUnavailableException)
        {
            settle = () => ReleaseAsync(lease, message);
        }
        catch (Exception ex)
        {
            // The worker has logged the function's exception whole, under this message's trace id; anything else (its
            // outputs could not be written) is logged here whole. Either way the message is retried.
            if (ex is FunctionInvocationException)
            {
                LogFailed(logger, function.Name, message.MessageId, message.DequeueCount, settings.MaxDequeueCount, ex.InnerException?.Message);
            }
            else
            {
                LogOutputsFailed(logger, ex, function.Name, message.MessageId, message.DequeueCount, settings.MaxDequeueCount);
            }

            settle = message.DequeueCount >= settings.MaxDequeueCount
                ? () => MoveToPoisonAsync(lease, message)
                : () => RetryLaterAsync(lease, message);
        }

        // Settling is outside the try above: a storage failure while deleting a processed message must not count as a
        // failure of the function (nor send a processed message to the poison queue).
        await SettleAsync(lease, message, settle);
    }

    private async Task DeleteAsync(MessageLease lease, QueueMessage message, TimeSpan elapsed)
    {
        var receipt = await lease.StopAsync();
        await queue.DeleteMessageAsync(message.MessageId, receipt, CancellationToken.None);
        LogSucceeded(logger, function.Name, message.MessageId, message.DequeueCount, elapsed.TotalMilliseconds);
    }

    private async Task SettleAsync(MessageLease lease, QueueMessage message, Func<Task> settle)
    {
        try
        {
            await settle();
        }
        catch (Exception ex) when (StorageRetry.IsStorageFailure(ex, CancellationToken.None))
        {
            // The message was not settled; its lease runs out and it is delivered again, so nothing is lost.
            LogSettleFailed(logger, ex, function.Name, message.MessageId);
        }
        finally
        {
            await lease.DisposeAsync();
        }
    }

    private async Task ReleaseAsync(MessageLease lease, QueueMessage message)
    {
        var receipt = await lease.StopAsync();
        await queue.UpdateMessageAsync(message.MessageId, receipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: CancellationToken.None);
        LogReleased(logger, function.Name, message.MessageId);
    }

    private async Task RetryLaterAsync(MessageLease lease, QueueMessage message)
    {
        var receipt = await lease.StopAsync();
        await queue.UpdateMessageAsync(message.MessageId, receipt, visibilityTimeout: settings.VisibilityTimeout, cancellationToken: CancellationToken.None);
    }

    private async Task MoveToPoisonAsync(MessageLease lease, QueueMessage message)
    {
        var receipt = await lease.StopAsync();

        // Copy first, delete second: a crash in between delivers the message once more, never loses it. The copy lives as
        // long as the original was meant to (a never-expiring payment event stays never-expiring).
        await poison.SendMessageAsync(message.Body, timeToLive: MessageTimeToLive.Of(message.InsertedOn, message.ExpiresOn), cancellationToken: CancellationToken.None);
        await queue.DeleteMessageAsync(message.MessageId, receipt, CancellationToken.None);
        LogPoisoned(logger, function.Name, message.MessageId, message.DequeueCount, poison.Name);
    }

    private static TimeSpan Jitter(TimeSpan delay) =>
        delay + TimeSpan.FromMilliseconds(Random.Shared.Next(0, (int)Math.Max(1, delay.TotalMilliseconds / 5)));

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Queue function {Function} listening on {Queue} (batchSize {BatchSize}, newBatchThreshold {Threshold}, maxDequeueCount {MaxDequeueCount})")]
    private static partial void LogListening(ILogger logger, string function, string queue, int batchSize, int threshold, int maxDequeueCount);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Debug, Message = "Queue function {Function} processed message {MessageId} (attempt {DequeueCount}) in {ElapsedMs:F1} ms")]
    private static partial void LogSucceeded(ILogger logger, string function, string messageId, long dequeueCount, double elapsedMs);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Error, Message = "Queue function {Function} failed on message {MessageId} (attempt {DequeueCount} of {MaxDequeueCount}): {Error}")]
    private static partial void LogFailed(ILogger logger, string function, string messageId, long dequeueCount, int maxDequeueCount, string? error);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "Queue function {Function} moved message {MessageId} to {PoisonQueue} after {DequeueCount} attempts")]
    private static partial void LogPoisoned(ILogger logger, string function, string messageId, long dequeueCount, string poisonQueue);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Information, Message = "Queue function {Function} released message {MessageId}: the host is stopping")]
    private static partial void LogReleased(ILogger logger, string function, string messageId);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Warning, Message = "Queue function {Function} could not settle message {MessageId}; it is delivered again when its lease runs out")]
    private static partial void LogSettleFailed(ILogger logger, Exception exception, string function, string messageId);

    [LoggerMessage(EventId = 2107, Level = LogLevel.Warning, Message = "Queue function {Function} could not read queue {Queue}; polling again")]
    private static partial void LogReceiveFailed(ILogger logger, Exception exception, string function, string queue);

    [LoggerMessage(EventId = 2108, Level = LogLevel.Information, Message = "Queue function {Function} stopped listening on {Queue}")]
    private static partial void LogStopped(ILogger logger, string function, string queue);

    [LoggerMessage(EventId = 2109, Level = LogLevel.Error, Message = "Queue function {Function} could not complete message {MessageId} (attempt {DequeueCount} of {MaxDequeueCount})")]
    private static partial void LogOutputsFailed(ILogger logger, Exception exception, string function, string messageId, long dequeueCount, int maxDequeueCount);
}
