using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace DecentCloud.FunctionsHost.Queues;

/// <summary>
/// Keeps a message hidden while its function runs by pushing its visibility out every third of the lease; each renewal
/// gives a new pop receipt, which the final delete or update must use.
/// </summary>
internal sealed partial class MessageLease : IAsyncDisposable
{
    private readonly QueueClient queue;
    private readonly string messageId;
    private readonly TimeSpan duration;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stop = new();
    private readonly Task renewing;
    private string popReceipt;

    public MessageLease(QueueClient queue, QueueMessage message, TimeSpan duration, TimeProvider time, ILogger logger)
    {
        this.queue = queue;
        messageId = message.MessageId;
        popReceipt = message.PopReceipt;
        this.duration = duration;
        this.time = time;
        this.logger = logger;
        renewing = RenewAsync(stop.Token);
    }

    /// <summary>Stops renewing and answers the current pop receipt.</summary>
    public async Task<string> StopAsync()
    {
        await stop.CancelAsync();
        await renewing;
        return popReceipt;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        stop.Dispose();
    }

    private async Task RenewAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(duration / 3, time, cancellationToken);
                try
                {
                    var renewed = await queue.UpdateMessageAsync(messageId, popReceipt, visibilityTimeout: duration, cancellationToken: cancellationToken);
                    popReceipt = renewed.Value.PopReceipt;
                }
                catch (RequestFailedException ex)
                {
                    // If renewal keeps failing the message becomes visible again and is delivered once more, which every
                    // queue function must tolerate anyway; the next renewal may succeed.
                    LogRenewFailed(logger, ex, queue.Name, messageId);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped on purpose.
        }
    }

    [LoggerMessage(EventId = 2110, Level = LogLevel.Warning, Message = "Could not extend the lease of message {MessageId} on {Queue}")]
    private static partial void LogRenewFailed(ILogger logger, Exception exception, string queue, string messageId);
}
