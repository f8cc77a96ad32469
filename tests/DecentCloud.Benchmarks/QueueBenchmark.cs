using System.Diagnostics;
using System.Globalization;
using Azure;
using Azure.Core;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using DecentCloud.Functions.Platform.Queues;
using DecentCloud.Testing;

namespace DecentCloud.Benchmarks;

/// <param name="Cpu">CPU time while timed: the benchmark's own process (the local host, or the raw loop's client) and the worker's.</param>
internal sealed record QueueRun(int Messages, double Seconds, CpuSample Cpu)
{
    public double Rate => Messages / Seconds;

    public double SelfCpuMsPerThousand => Cpu.Self.TotalMilliseconds / Messages * 1000;

    public double WorkerCpuMsPerThousand => Cpu.Worker.TotalMilliseconds / Messages * 1000;
}

internal sealed record QueuePlan(int Messages, int Runs, int WarmUpMessages)
{
    public static QueuePlan Full { get; } = new(2000, 3, 200);

    public static QueuePlan Quick { get; } = new(300, 1, 50);
}

/// <summary>The function app's host.json <c>extensions.queues</c>, which the no-op function runs with.</summary>
internal sealed record QueueSettings(int BatchSize, int NewBatchThreshold, string MessageEncoding, IReadOnlyDictionary<string, string?> Overrides)
{
    private const string Prefix = "AzureFunctionsJobHost__extensions__queues__";

    public QueueMessageEncoding Encoding =>
        string.Equals(MessageEncoding, "none", StringComparison.OrdinalIgnoreCase) ? QueueMessageEncoding.None : QueueMessageEncoding.Base64;

    public static QueueSettings FromRepository()
    {
        var overrides = AppSettings.RepositoryQueueSettings();
        // The Functions host's defaults where host.json is silent.
        var batchSize = Number(overrides, "batchSize") ?? 16;
        return new QueueSettings(batchSize, Number(overrides, "newBatchThreshold") ?? batchSize / 2, overrides.GetValueOrDefault(Prefix + "messageEncoding") ?? "base64", overrides);
    }

    private static int? Number(Dictionary<string, string?> overrides, string name) =>
        overrides.GetValueOrDefault(Prefix + name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : null;
}

/// <summary>
/// Messages per second through a no-op queue function run by the local Functions host and a real worker (the sample
/// app's <c>Discard</c>), against a raw receive-and-delete loop, alternating between the two.
/// </summary>
/// <remarks>
/// Every measured run gets its own fresh private Azurite. Azurite 3.37's in-memory queue store runs a
/// garbage collection 60 s after it starts and every 60 s after that; when one falls after thousands of
/// messages were received and deleted, it holds Azurite's only thread at 100 % CPU for a minute or more,
/// and no request is answered meanwhile (seen here: a host run stalled at 208 of 2000 messages, a raw run
/// took 86 s instead of 9). A run of 2000 messages takes 10 to 30 s, so a fresh Azurite per run never
/// meets that pass, and each consumer starts from the same empty store.
/// </remarks>
internal sealed class QueueBenchmark(BuildOutputs outputs, QueueSettings settings, QueueClientOptions rawClientOptions)
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
    private readonly List<IReadOnlyList<ProblemKind>> hostProblems = [];

    public static async Task<QueueResult> RunAsync(BuildOutputs outputs, QueuePlan plan, CancellationToken cancellationToken)
    {
        var settings = QueueSettings.FromRepository();
        Progress.Line($"queue throughput: the function app's host.json extensions.queues: batchSize {settings.BatchSize}, newBatchThreshold {settings.NewBatchThreshold}, messageEncoding {settings.MessageEncoding}");
        var rawRetries = new RetryCounter();
        var rawClientOptions = new QueueClientOptions { MessageEncoding = settings.Encoding };
        rawClientOptions.AddPolicy(rawRetries, HttpPipelinePosition.PerRetry);
        var benchmark = new QueueBenchmark(outputs, settings, rawClientOptions);
        var loadBefore = LoadAverage.Read();

        // Warm-up, not counted: JIT in this process, the Azure SDK's connections.
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

        return new QueueResult(plan, settings, hostRuns, rawRuns, warmUpHost, warmUpRaw, loadBefore, LoadAverage.Read())
        {
            RawDeletesNotFound = benchmark.rawDeletesNotFound,
            RawRetries = rawRetries.Count,
            HostProblems = ProblemKind.Merge(benchmark.hostProblems),
        };
    }

    /// <summary>
    /// Pre-fills a new queue, starts the local host on the sample app with its no-op function listening there, and times
    /// from the listener's start until the host has deleted every message after the function ran for it.
    /// </summary>
    private async Task<QueueRun> HostRunAsync(string label, int messages, CancellationToken cancellationToken)
    {
        await using var azurite = await StartAzuriteAsync(label, "host", cancellationToken);
        var queueName = NextQueueName("host");
        var service = new QueueServiceClient(azurite.ConnectionString, new QueueClientOptions { MessageEncoding = settings.Encoding });
        var queue = await FillAsync(service, queueName, messages, cancellationToken);

        var values = SampleAppSettings.For(azurite.ConnectionString, queueName, "benchhub");
        foreach (var (name, value) in settings.Overrides)
        {
            values[name] = value;
        }

        var log = new HostLogTap();
        var count = log.CountQueue(SampleAppSettings.NoOpFunction, messages, () => CpuSample.With(log.WorkerProcessId));
        var started = Stopwatch.StartNew();
        await using (var app = await HostedApp.StartAsync(outputs.SampleApp, values, log, cancellationToken))
        {
            var startMs = started.Elapsed.TotalMilliseconds;
            while (!count.Reached.IsCompleted)
            {
                if (started.Elapsed > DrainDeadline)
                {
                    throw new BenchmarkException($"The host ran the no-op function for {count.Processed} of {messages} messages on {queueName} within {DrainDeadline.TotalSeconds:F0} s.");
                }

                if (await Task.WhenAny(count.Reached, Task.Delay(ProgressEvery, cancellationToken)) != count.Reached)
                {
                    Progress.Line($"queue throughput: {label} host     ... {count.Processed}/{messages} after {started.Elapsed.TotalSeconds:F0} s");
                }
            }

            Progress.Line($"queue throughput: {label} host     (the host and its worker started in {startMs:F0} ms, not timed)");
        }

        await ExpectEmptyAsync(queue, cancellationToken);
        await ExpectEmptyAsync(service.GetQueueClient(queueName + "-poison"), cancellationToken);
        hostProblems.Add(log.ProblemKinds);
        var result = new QueueRun(messages, count.Elapsed.TotalSeconds, count.Cpu);
        Report("host", label, result);
        return result;
    }

    /// <summary>One loop: receive up to 32, delete each in turn, until every message is gone.</summary>
    private async Task<QueueRun> RawRunAsync(string label, int messages, CancellationToken cancellationToken)
    {
        await using var azurite = await StartAzuriteAsync(label, "raw loop", cancellationToken);
        var rawQueues = new QueueServiceClient(azurite.ConnectionString, rawClientOptions);
        var queueName = NextQueueName("raw");
        var queue = await FillAsync(rawQueues, queueName, messages, cancellationToken);

        var cpu = CpuSample.OfSelf();
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

        stopwatch.Stop();
        var result = new QueueRun(messages, stopwatch.Elapsed.TotalSeconds, CpuSample.OfSelf() - cpu);
        await ExpectEmptyAsync(queue, cancellationToken);
        Report("raw loop", label, result);
        return result;
    }

    private static async Task<Azurite> StartAzuriteAsync(string label, string who, CancellationToken cancellationToken)
    {
        Progress.Line($"queue throughput: {label} {who,-8} starting a fresh private Azurite");
        return await Azurite.StartAsync(cancellationToken);
    }

    private string NextQueueName(string kind) => $"bench-{kind}-{Interlocked.Increment(ref queues)}";

    /// <summary>Puts the messages on a new queue with parallel sends (the app's QueueWriter: its JSON and encoding), before any timing starts.</summary>
    private static async Task<QueueClient> FillAsync(QueueServiceClient service, string queueName, int messages, CancellationToken cancellationToken)
    {
        Progress.Line($"queue throughput: pre-filling {queueName} with {messages} messages");
        var writer = new QueueWriter(service);
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

    /// <summary>The count includes messages still hidden, so 0 means every one was deleted (and none went to the poison queue).</summary>
    private static async Task ExpectEmptyAsync(QueueClient queue, CancellationToken cancellationToken)
    {
        var count = (await queue.GetPropertiesAsync(cancellationToken)).Value.ApproximateMessagesCount;
        if (count > 0)
        {
            throw new BenchmarkException($"{queue.Name} still holds {count} messages after the run.");
        }
    }

    private static void Report(string who, string label, QueueRun run) =>
        Progress.Line($"queue throughput: {label} {who,-8} {run.Messages} messages in {run.Seconds:F2} s = {run.Rate,4:F0} msgs/s " +
                      $"(CPU per 1000 messages: this process {run.SelfCpuMsPerThousand:F0} ms, worker {run.WorkerCpuMsPerThousand:F0} ms)");
}

/// <summary>What the no-op function gets: it reads nothing of it.</summary>
internal sealed record NoOpMessage(int Sequence);
