using System.Diagnostics;
using Azure;
using Azure.Core;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using DecentCloud.Functions.Platform.Queues;
using DecentCloud.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DecentCloud.Benchmarks;

/// <param name="CpuMs">CPU time the benchmark's own process (the host, or the raw loop's client) used while timed.</param>
internal sealed record QueueRun(int Messages, double Seconds, double CpuMs)
{
    public double Rate => Messages / Seconds;

    public double CpuMsPerThousand => CpuMs / Messages * 1000;
}

internal sealed record QueuePlan(int Messages, int Runs, int WarmUpMessages)
{
    public static QueuePlan Full { get; } = new(2000, 3, 200);

    public static QueuePlan Quick { get; } = new(300, 1, 50);
}

/// <summary>
/// Messages per second through a no-op queue function in the real host, against a raw
/// receive-and-delete loop, alternating between the two.
/// </summary>
/// <remarks>
/// Every measured run gets its own fresh private Azurite. Azurite 3.37's in-memory queue store runs a
/// garbage collection 60 s after it starts and every 60 s after that; when one falls after thousands of
/// messages were received and deleted, it holds Azurite's only thread at 100 % CPU for a minute or more,
/// and no request is answered meanwhile (seen here: a host run stalled at 208 of 2000 messages, a raw run
/// took 86 s instead of 9). A run of 2000 messages takes 10 to 30 s, so a fresh Azurite per run never
/// meets that pass, and each consumer starts from the same empty store.
/// </remarks>
internal sealed class QueueBenchmark(string scriptRoot, QueueClientOptions rawClientOptions)
{
    /// <summary>The raw loop takes the most one receive allows.</summary>
    public const int RawBatchSize = 32;
    public const int FillParallelism = 32;

    /// <summary>The raw loop hides what it receives as long as the host's listener does (its message lease).</summary>
    private static readonly TimeSpan RawVisibility = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan DrainDeadline = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(5);

    private int queues;
    private int rawDeletesNotFound;

    public static async Task<QueueResult> RunAsync(QueuePlan plan, CancellationToken cancellationToken)
    {
        using var root = ScriptRootFolder.CreateWithHostJson();
        var options = await HostOptionsAsync(root.Path);
        Progress.Line($"queue throughput: host.json extensions.queues batchSize {options.BatchSize}, newBatchThreshold {options.EffectiveNewBatchThreshold}, messageEncoding {options.MessageEncoding}");
        var rawRetries = new RetryCounter();
        var rawClientOptions = new QueueClientOptions { MessageEncoding = options.Encoding };
        rawClientOptions.AddPolicy(rawRetries, HttpPipelinePosition.PerRetry);
        var benchmark = new QueueBenchmark(root.Path, rawClientOptions);
        var loadBefore = LoadAverage.Read();

        // Warm-up, not counted: JIT, the Azure SDK's connections.
        var warmUpHost = await benchmark.HostRunAsync("warm-up", plan.WarmUpMessages, cancellationToken);
        var warmUpRaw = await benchmark.RawRunAsync("warm-up", plan.WarmUpMessages, cancellationToken);

        var hostRuns = new List<QueueRun>();
        var rawRuns = new List<QueueRun>();
        for (var run = 1; run <= plan.Runs; run++)
        {
            var label = $"run {run}/{plan.Runs}";
            if (run % 2 == 1)
            {
                hostRuns.Add(await benchmark.HostRunAsync(label, plan.Messages, cancellationToken));
                rawRuns.Add(await benchmark.RawRunAsync(label, plan.Messages, cancellationToken));
            }
            else
            {
                rawRuns.Add(await benchmark.RawRunAsync(label, plan.Messages, cancellationToken));
                hostRuns.Add(await benchmark.HostRunAsync(label, plan.Messages, cancellationToken));
            }
        }

        return new QueueResult(plan, options.BatchSize, options.EffectiveNewBatchThreshold, options.MessageEncoding, hostRuns, rawRuns, warmUpHost, warmUpRaw, loadBefore, LoadAverage.Read())
        {
            RawDeletesNotFound = benchmark.rawDeletesNotFound,
            RawRetries = rawRetries.Count,
        };
    }

    /// <summary>
    /// Builds the real app with the no-op function on a new queue, pre-fills the queue through the app's
    /// own QueueWriter, then times from starting the app until the function has run for every message
    /// and the queue is empty.
    /// </summary>
    private async Task<QueueRun> HostRunAsync(string label, int messages, CancellationToken cancellationToken)
    {
        await using var azurite = await StartAzuriteAsync(label, "host", cancellationToken);
        var queueName = NextQueueName("host");
        var counter = new InvocationCounter(messages);
        await using var app = InProcessApp.Create(azurite.ConnectionString, scriptRoot, configure: builder =>
        {
            builder.Services.AddSingleton(counter);
            builder.Functions.Queue<NoOpFunction, NoOpMessage>(queueName);
        });
        var queue = await FillAsync(app.Services.GetRequiredService<QueueWriter>(), app.Services.GetRequiredService<QueueServiceClient>(), queueName, messages, cancellationToken);

        var cpu = CpuTime();
        var stopwatch = Stopwatch.StartNew();
        await app.StartAsync(cancellationToken);
        while (!counter.Reached.IsCompleted)
        {
            if (stopwatch.Elapsed > DrainDeadline)
            {
                throw new BenchmarkException($"The host ran the no-op function for {counter.Count} of {messages} messages on {queueName} within {DrainDeadline.TotalSeconds:F0} s.");
            }

            if (await Task.WhenAny(counter.Reached, Task.Delay(ProgressEvery, cancellationToken)) != counter.Reached)
            {
                Progress.Line($"queue throughput: {label} host     ... {counter.Count}/{messages} after {stopwatch.Elapsed.TotalSeconds:F0} s");
            }
        }

        await WaitUntilEmptyAsync(queue, stopwatch, cancellationToken);
        stopwatch.Stop();
        var result = new QueueRun(messages, stopwatch.Elapsed.TotalSeconds, (CpuTime() - cpu).TotalMilliseconds);
        await app.StopAsync(CancellationToken.None);

        Report("host", label, result);
        return result;
    }

    /// <summary>One loop: receive up to 32, delete each in turn, until every message is gone.</summary>
    private async Task<QueueRun> RawRunAsync(string label, int messages, CancellationToken cancellationToken)
    {
        await using var azurite = await StartAzuriteAsync(label, "raw loop", cancellationToken);
        var rawQueues = new QueueServiceClient(azurite.ConnectionString, rawClientOptions);
        var queueName = NextQueueName("raw");
        var queue = await FillAsync(new QueueWriter(rawQueues), rawQueues, queueName, messages, cancellationToken);

        var cpu = CpuTime();
        var stopwatch = Stopwatch.StartNew();
        var nextProgress = ProgressEvery;
        var deleted = 0;
        while (deleted < messages)
        {
            var batch = (await queue.ReceiveMessagesAsync(RawBatchSize, RawVisibility, cancellationToken)).Value;
            foreach (var message in batch)
            {
                try
                {
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                }
                catch (RequestFailedException ex) when (ex.ErrorCode == QueueErrorCode.MessageNotFound.ToString())
                {
                    // Seen only while Azurite's garbage collection held it up (see the remarks above). The
                    // message is gone, which is all the loop wants; the report counts these.
                    rawDeletesNotFound++;
                    Progress.Line($"queue throughput: {label} raw loop: delete of {message.MessageId} answered 404 MessageNotFound (counted as deleted)");
                }

                deleted++;
            }

            if (stopwatch.Elapsed > nextProgress)
            {
                Progress.Line($"queue throughput: {label} raw loop ... {deleted}/{messages} after {stopwatch.Elapsed.TotalSeconds:F0} s");
                nextProgress += ProgressEvery;
            }

            if (batch.Length == 0 && stopwatch.Elapsed > DrainDeadline)
            {
                throw new BenchmarkException($"The raw loop deleted {deleted} of {messages} messages on {queueName}, and the queue answers no more.");
            }
        }

        await WaitUntilEmptyAsync(queue, stopwatch, cancellationToken);
        stopwatch.Stop();
        var result = new QueueRun(messages, stopwatch.Elapsed.TotalSeconds, (CpuTime() - cpu).TotalMilliseconds);

        Report("raw loop", label, result);
        return result;
    }

    private static async Task<Azurite> StartAzuriteAsync(string label, string who, CancellationToken cancellationToken)
    {
        Progress.Line($"queue throughput: {label} {who,-8} starting a fresh private Azurite");
        return await Azurite.StartAsync(cancellationToken);
    }

    /// <summary>host.json's extensions.queues as the host reads them (the app is built, not started, and touches no storage).</summary>
    private static async Task<QueueHostOptions> HostOptionsAsync(string scriptRoot)
    {
        await using var app = InProcessApp.Create("UseDevelopmentStorage=true", scriptRoot);
        return app.Services.GetRequiredService<IOptions<QueueHostOptions>>().Value;
    }

    private string NextQueueName(string kind) => $"bench-{kind}-{Interlocked.Increment(ref queues)}";

    /// <summary>Puts the messages on a new queue with parallel sends, before any timing starts.</summary>
    private static async Task<QueueClient> FillAsync(QueueWriter writer, QueueServiceClient service, string queueName, int messages, CancellationToken cancellationToken)
    {
        Progress.Line($"queue throughput: pre-filling {queueName} with {messages} messages");
        await Parallel.ForEachAsync(
            Enumerable.Range(1, messages),
            new ParallelOptions { MaxDegreeOfParallelism = FillParallelism, CancellationToken = cancellationToken },
            async (sequence, token) => await writer.SendAsync(queueName, new NoOpMessage(sequence), cancellationToken: token));

        var queue = service.GetQueueClient(queueName);
        var count = (await queue.GetPropertiesAsync(cancellationToken)).Value.ApproximateMessagesCount;
        return count == messages
            ? queue
            : throw new BenchmarkException($"{queueName} holds {count} messages after sending {messages}.");
    }

    /// <summary>The count includes messages still hidden while their function runs, so 0 means every one was deleted.</summary>
    private static async Task WaitUntilEmptyAsync(QueueClient queue, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        while ((await queue.GetPropertiesAsync(cancellationToken)).Value.ApproximateMessagesCount > 0)
        {
            if (stopwatch.Elapsed > DrainDeadline)
            {
                throw new BenchmarkException($"{queue.Name} still holds messages after {DrainDeadline.TotalSeconds:F0} s.");
            }

            await Task.Delay(2, cancellationToken);
        }
    }

    private static TimeSpan CpuTime()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    private static void Report(string who, string label, QueueRun run) =>
        Progress.Line($"queue throughput: {label} {who,-8} {run.Messages} messages in {run.Seconds:F2} s = {run.Rate,4:F0} msgs/s " +
                      $"(this process's CPU: {run.CpuMsPerThousand:F0} ms per 1000 messages)");
}
