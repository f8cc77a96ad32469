using System.Net;
using System.Net.Sockets;
using Azure;
using Azure.Storage.Queues;
using DecentCloud.Functions.Platform;

namespace DecentCloud.Tests.Hosting;

/// <summary>Which exceptions the listeners treat as storage trouble to wait out, rather than a reason to stop the host.</summary>
public sealed class StorageFailureTests
{
    private const string Account = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;";

    [Fact]
    public async Task A_storage_endpoint_that_accepts_connections_but_never_answers_is_a_storage_failure()
    {
        // Accepts every connection and never writes a byte: the SDK's network timeout is what ends each try.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var held = new List<TcpClient>();
        var accepting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                held.Add(await silent.AcceptTcpClientAsync(stop.Token));
            }
        });
        var options = new QueueClientOptions();
        options.Retry.MaxRetries = 1;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.NetworkTimeout = TimeSpan.FromMilliseconds(300);
        var queue = new QueueServiceClient($"{Account}QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;", options).GetQueueClient("silent");

        var failure = await Record.ExceptionAsync(() => queue.ReceiveMessagesAsync(1));

        await stop.CancelAsync();
        held.ForEach(client => client.Dispose());
        Assert.NotNull(failure);
        Assert.True(StorageRetry.IsStorageFailure(failure, CancellationToken.None), $"not a storage failure: {failure}");
    }

    [Fact]
    public void A_refusal_is_a_storage_failure_but_nothing_is_once_the_caller_cancelled()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var refusal = new RequestFailedException(503, "Server busy");

        Assert.True(StorageRetry.IsStorageFailure(refusal, CancellationToken.None));
        Assert.True(StorageRetry.IsStorageFailure(new AggregateException(refusal, new TaskCanceledException()), CancellationToken.None));
        Assert.False(StorageRetry.IsStorageFailure(refusal, cancelled.Token));
        Assert.False(StorageRetry.IsStorageFailure(new OperationCanceledException(cancelled.Token), cancelled.Token));
        Assert.False(StorageRetry.IsStorageFailure(new InvalidOperationException("a bug"), CancellationToken.None));
        Assert.False(StorageRetry.IsStorageFailure(new AggregateException(refusal, new InvalidOperationException("a bug")), CancellationToken.None));
    }
}
