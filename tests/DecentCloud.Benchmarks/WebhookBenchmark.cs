using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using DecentCloud.Functions.Billing.StripeIntegration;
using DecentCloud.Functions.Platform.Queues;
using DecentCloud.Testing;

namespace DecentCloud.Benchmarks;

/// <param name="Rounds">Sequential rounds; each sends one request of every <see cref="WebhookSeries"/>.</param>
/// <param name="BurstRequests">Requests of each concurrent burst.</param>
internal sealed record WebhookPlan(int WarmUpRounds, int Rounds, int WarmUpBurst, int BurstRequests, int Concurrency)
{
    public static WebhookPlan Full { get; } = new(100, 1000, 320, 3000, 32);

    public static WebhookPlan Quick { get; } = new(20, 150, 64, 400, 32);
}

/// <summary>What one timed request does.</summary>
internal enum WebhookSeries
{
    /// <summary>POST /api/v1/webhooks/stripe through the local host and the worker: verify, then one queue put.</summary>
    Webhook,

    /// <summary>The bare queue put of a message the size of the webhook's.</summary>
    QueuePut,

    /// <summary>The bare table insert of a row the shape and size of the webhook's.</summary>
    TableInsert,

    /// <summary>Both bare writes at once: the webhook's storage work without the host.</summary>
    InsertAndPut,

    /// <summary>
    /// The same event signed with another secret, through the local host and the worker: refused 400 once the signature
    /// fails, before any storage; what the host and the worker cost on their own.
    /// </summary>
    Refused,
}

/// <summary>One series' timings, in milliseconds, and the requests that did not succeed.</summary>
internal sealed record SeriesTimings(WebhookSeries Series, IReadOnlyList<double> Ms, int Failures);

/// <param name="Seconds">From the first request's start to the last one's answer.</param>
/// <param name="Cpu">CPU time meanwhile: the benchmark's process (client and local host) and the app's worker.</param>
internal sealed record BurstRun(WebhookSeries Series, int Concurrency, double Seconds, CpuSample Cpu, SeriesTimings Timings)
{
    public int Requests => Timings.Ms.Count;

    public double Rate => Requests / Seconds;

    public double SelfCpuMsPerThousand => Cpu.Self.TotalMilliseconds / Requests * 1000;

    public double WorkerCpuMsPerThousand => Cpu.Worker.TotalMilliseconds / Requests * 1000;
}

/// <summary>
/// The Stripe webhook's acknowledgement through the local Functions host and the app's worker (the host's Kestrel on
/// loopback, the worker's own HTTP endpoint behind it, a private in-memory Azurite)
/// against the bare storage writes it makes, in the same run on the same Azurite: one request at a time, the series
/// interleaved, then concurrent bursts.
/// </summary>
internal sealed class WebhookBenchmark
{
    public const string WebhookSecret = "whsec_benchmark_not_secret_0000000000000000";
    public const string WrongSecret = "whsec_benchmark_wrong_secret_000000000000000";
    public const string BareQueueName = "bench-bare-stripe-events";
    public const string BareTableName = "BenchBareStripeEvents";

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    private static readonly WebhookSeries[] Rotation = [WebhookSeries.Webhook, WebhookSeries.QueuePut, WebhookSeries.TableInsert, WebhookSeries.InsertAndPut, WebhookSeries.Refused];

    private readonly HttpClient http;
    private readonly QueueClient bareQueue;
    private readonly TableClient bareTable;
    private readonly StripeEventSamples samples;
    private readonly QueueMessageEncoding encoding;
    private readonly WebhookFailures failures = new();
    private readonly HostedApp app;
    private int sequence;

    private WebhookBenchmark(HttpClient http, QueueClient bareQueue, TableClient bareTable, StripeEventSamples samples, QueueMessageEncoding encoding, HostedApp app)
    {
        this.app = app;
        this.encoding = encoding;
        this.http = http;
        this.bareQueue = bareQueue;
        this.bareTable = bareTable;
        this.samples = samples;
    }

    public static async Task<WebhookResult> RunAsync(BuildOutputs outputs, WebhookPlan plan, CancellationToken cancellationToken)
    {
        var samples = StripeEventSamples.Load();
        Progress.Line("webhooks: starting a private Azurite");
        await using var azurite = await Azurite.StartAsync(cancellationToken);
        var azuriteAge = Stopwatch.StartNew();
        var settings = AppSettings.For(azurite.ConnectionString, port: 0);
        settings["STRIPE_WEBHOOK_SECRET"] = WebhookSecret;
        // Only the acknowledgement is measured: the processor would otherwise take each event off the queue
        // while the next ones arrive, and its reads and writes would share Azurite with the writes timed here.
        settings["AzureWebJobs.ProcessStripeEvent.Disabled"] = "true";
        var encoding = QueueSettings.FromRepository().Encoding;
        // The refused series makes the webhook log one warning per request (its event's name, as the worker sends it).
        var log = new HostLogTap { IsExpected = (category, eventId) => category == typeof(StripeWebhook).FullName && eventId.Name == "LogRefused" };
        await using var app = await HostedApp.StartAsync(outputs.FunctionApp, settings, log, cancellationToken);
        Progress.Line($"webhooks: local host listening on {app.BaseAddress} (worker process {app.Log.WorkerProcessId}), ProcessStripeEvent disabled, queue message encoding {encoding}");

        var retries = new RetryCounter();
        var queueOptions = new QueueClientOptions { MessageEncoding = encoding };
        queueOptions.AddPolicy(retries, HttpPipelinePosition.PerRetry);
        var tableOptions = new TableClientOptions();
        tableOptions.AddPolicy(retries, HttpPipelinePosition.PerRetry);
        var bareQueue = new QueueClient(azurite.ConnectionString, BareQueueName, queueOptions);
        var bareTable = new TableClient(azurite.ConnectionString, BareTableName, tableOptions);
        await bareQueue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await bareTable.CreateIfNotExistsAsync(cancellationToken);

        using var handler = new SocketsHttpHandler { UseProxy = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10) };
        using var http = new HttpClient(handler) { BaseAddress = app.BaseAddress, Timeout = RequestTimeout };
        var benchmark = new WebhookBenchmark(http, bareQueue, bareTable, samples, encoding, app);
        var sizes = benchmark.Sizes();
        Progress.Line($"webhooks: event body {sizes.BodyBytes} bytes, queue message {sizes.MessageJsonBytes} bytes of JSON ({sizes.MessageWireChars} as sent, {encoding})");
        var loadBefore = LoadAverage.Read();

        // Warm-up, not counted: JIT in the host and the worker, the table and queue creation on first write, the pooled connections.
        await benchmark.RoundsAsync("warm-up", plan.WarmUpRounds, cancellationToken);
        await benchmark.BurstAsync("warm-up", WebhookSeries.Webhook, plan.WarmUpBurst, plan.Concurrency, cancellationToken);
        var sequential = await benchmark.RoundsAsync("measured", plan.Rounds, cancellationToken);
        Progress.Line($"webhooks: Azurite running for {azuriteAge.Elapsed.TotalSeconds:F0} s");

        var bursts = new List<BurstRun>();
        foreach (var series in new[] { WebhookSeries.Webhook, WebhookSeries.InsertAndPut, WebhookSeries.TableInsert, WebhookSeries.QueuePut })
        {
            bursts.Add(await benchmark.BurstAsync("measured", series, plan.BurstRequests, plan.Concurrency, cancellationToken));
        }

        var loadAfter = LoadAverage.Read();
        var stored = await StoredAsync(azurite.ConnectionString, encoding, cancellationToken);
        Progress.Line($"webhooks: Azurite running for {azuriteAge.Elapsed.TotalSeconds:F0} s; {stored.Rows} rows in {StripeEventStore.TableName}, " +
                      $"{stored.Messages} messages on {StripeWebhook.QueueName}, for {benchmark.failures.Accepted} events acknowledged; " +
                      $"{app.Log.Problems} warnings or errors logged by the host and the worker");

        return new WebhookResult(plan, encoding.ToString(), sizes, sequential, bursts, benchmark.failures.Snapshot(), stored, retries.Count, app.Log.ProblemKinds, app.Log.Expected, azuriteAge.Elapsed, loadBefore, loadAfter);
    }

    /// <summary>
    /// One request at a time. A round sends one request of each series, in an order rotated from round to round, so
    /// each series meets the same queue and table lengths and takes each place in a round equally often.
    /// </summary>
    private async Task<IReadOnlyList<SeriesTimings>> RoundsAsync(string label, int rounds, CancellationToken cancellationToken)
    {
        var ms = Rotation.ToDictionary(series => series, _ => new List<double>(rounds));
        var failed = Rotation.ToDictionary(series => series, _ => 0);
        var clock = Stopwatch.StartNew();
        for (var round = 0; round < rounds; round++)
        {
            for (var place = 0; place < Rotation.Length; place++)
            {
                var series = Rotation[(round + place) % Rotation.Length];
                var (elapsed, ok) = await TimeAsync(series, Prepare(), cancellationToken);
                ms[series].Add(elapsed);
                failed[series] += ok ? 0 : 1;
            }
        }

        var timings = Rotation.Select(series => new SeriesTimings(series, ms[series], failed[series])).ToList();
        Progress.Line($"webhooks: {label} {rounds} sequential rounds in {clock.Elapsed.TotalSeconds:F1} s; medians " +
                      string.Join(", ", timings.Select(t => $"{WebhookResult.Name(t.Series)} {Stats.Median(t.Ms):F2} ms")) +
                      $"; failures {timings.Sum(t => t.Failures)}");
        return timings;
    }

    /// <summary><paramref name="requests"/> requests of one series, <paramref name="concurrency"/> in flight at a time.</summary>
    private async Task<BurstRun> BurstAsync(string label, WebhookSeries series, int requests, int concurrency, CancellationToken cancellationToken)
    {
        // Prepared (and signed) before the clock starts; a burst lasts far less than the webhook's 300 s tolerance.
        var prepared = Enumerable.Range(0, requests).Select(_ => Prepare()).ToArray();
        var ms = new double[requests];
        var failed = 0;
        var cpu = app.Cpu();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(
            Enumerable.Range(0, requests),
            new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var (elapsed, ok) = await TimeAsync(series, prepared[i], token);
                ms[i] = elapsed;
                if (!ok)
                {
                    Interlocked.Increment(ref failed);
                }
            });
        clock.Stop();
        var run = new BurstRun(series, concurrency, clock.Elapsed.TotalSeconds, app.Cpu() - cpu, new SeriesTimings(series, ms, failed));
        Progress.Line($"webhooks: {label} burst {WebhookResult.Name(series)}: {requests} requests, {concurrency} at a time, in {run.Seconds:F2} s = {run.Rate:F0}/s; " +
                      $"median {Stats.Median(ms):F1} ms, p99 {Stats.Percentile(ms, 99):F1} ms; failures {failed}; CPU per 1000: this process {run.SelfCpuMsPerThousand:F0} ms, worker {run.WorkerCpuMsPerThousand:F0} ms");
        return run;
    }

    /// <summary>A fresh event with everything each series sends, built before any timing.</summary>
    private Prepared Prepare()
    {
        var sample = samples.Event(Interlocked.Increment(ref sequence), DateTimeOffset.UtcNow);
        var message = BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(new StripeEventMessage(sample.Id, StripeEventSamples.EventType, sample.Created, sample.Body), QueueJson.Options));
        var now = DateTimeOffset.UtcNow;
        return new Prepared(sample, StripeEventSamples.SignatureHeader(sample.Body, WebhookSecret, now), StripeEventSamples.SignatureHeader(sample.Body, WrongSecret, now), message, Row(sample));
    }

    /// <summary>The row StripeEventStore writes for an event: the same properties, the body in one binary chunk.</summary>
    private static TableEntity Row(SampleEvent sample) => new(sample.Id, StripeEventStore.EventRowKey)
    {
        ["Type"] = StripeEventSamples.EventType,
        ["Created"] = sample.Created,
        ["ApiVersion"] = Stripe.StripeConfiguration.ApiVersion,
        ["ObjectId"] = sample.SessionId,
        ["ReceivedAt"] = DateTimeOffset.UtcNow,
        ["Status"] = StripeEventStatus.Received,
        ["Body0"] = Encoding.UTF8.GetBytes(sample.Body),
    };

    private async Task<(double Ms, bool Ok)> TimeAsync(WebhookSeries series, Prepared request, CancellationToken cancellationToken)
    {
        if (series is WebhookSeries.Webhook or WebhookSeries.Refused)
        {
            return await TimeWebhookAsync(request, series == WebhookSeries.Refused, cancellationToken);
        }

        var started = Stopwatch.GetTimestamp();
        var ok = series switch
        {
            WebhookSeries.QueuePut => await BareAsync(() => bareQueue.SendMessageAsync(request.Message, visibilityTimeout: null, timeToLive: QueueWriter.Forever, cancellationToken)),
            WebhookSeries.TableInsert => await BareAsync(() => bareTable.AddEntityAsync(request.Row, cancellationToken)),
            _ => (await Task.WhenAll(
                BareAsync(() => bareTable.AddEntityAsync(request.Row, cancellationToken)),
                BareAsync(() => bareQueue.SendMessageAsync(request.Message, visibilityTimeout: null, timeToLive: QueueWriter.Forever, cancellationToken)))).All(written => written),
        };
        return (Stopwatch.GetElapsedTime(started).TotalMilliseconds, ok);
    }

    /// <summary>From <c>SendAsync</c> until the answer is read (the client buffers it); its status and body are checked after.</summary>
    private async Task<(double Ms, bool Ok)> TimeWebhookAsync(Prepared request, bool refused, CancellationToken cancellationToken)
    {
        using var message = refused ? request.RefusedRequest() : request.WebhookRequest();
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await http.SendAsync(message, cancellationToken);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return (elapsed, refused ? failures.Refused(response.StatusCode, body) : failures.Webhook(response.StatusCode, body));
        }
        catch (Exception ex) when ((ex is HttpRequestException or TaskCanceledException) && !cancellationToken.IsCancellationRequested)
        {
            return (Stopwatch.GetElapsedTime(started).TotalMilliseconds, failures.NoAnswer(ex));
        }
    }

    private async Task<bool> BareAsync(Func<Task> write)
    {
        try
        {
            await write();
            return true;
        }
        catch (RequestFailedException ex)
        {
            return failures.Bare(ex);
        }
    }

    /// <summary>Sizes of what one event puts on the wire and in storage (the same for every event of the run).</summary>
    private MessageSizes Sizes()
    {
        var prepared = Prepare();
        var json = prepared.Message.ToMemory().Length;
        return new MessageSizes(Encoding.UTF8.GetByteCount(prepared.Sample.Body), json, encoding == QueueMessageEncoding.Base64 ? (json + 2) / 3 * 4 : json);
    }

    /// <summary>What the webhook left in storage: one queue message per event it acknowledged (nothing takes them off), and no rows.</summary>
    private static async Task<StoredEvents> StoredAsync(string connectionString, QueueMessageEncoding encoding, CancellationToken cancellationToken)
    {
        var rows = 0;
        try
        {
            await foreach (var _ in new TableClient(connectionString, StripeEventStore.TableName).QueryAsync<TableEntity>(select: ["PartitionKey"], cancellationToken: cancellationToken))
            {
                rows++;
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // No row was ever written, so the table was never created: zero rows.
        }

        var queue = new QueueClient(connectionString, StripeWebhook.QueueName, new QueueClientOptions { MessageEncoding = encoding });
        var messages = (await queue.GetPropertiesAsync(cancellationToken)).Value.ApproximateMessagesCount;
        return new StoredEvents(rows, messages);
    }

    private sealed record Prepared(SampleEvent Sample, string SignatureHeader, string WrongSignatureHeader, BinaryData Message, TableEntity Row)
    {
        public HttpRequestMessage WebhookRequest() => Request(SignatureHeader);

        /// <summary>The same event, signed with another secret: the webhook refuses it before storing anything.</summary>
        public HttpRequestMessage RefusedRequest() => Request(WrongSignatureHeader);

        private HttpRequestMessage Request(string signatureHeader)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/webhooks/stripe")
            {
                Content = new StringContent(Sample.Body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
            };
            request.Headers.TryAddWithoutValidation("Stripe-Signature", signatureHeader);
            return request;
        }
    }
}

/// <param name="MessageWireChars">The queue message as sent: base64 of the JSON when the host's encoding is base64.</param>
internal sealed record MessageSizes(int BodyBytes, int MessageJsonBytes, int MessageWireChars);

internal sealed record StoredEvents(int Rows, int Messages);

/// <summary>The answers that were not a 200 for a new event, and the bare writes that failed, with the first few described.</summary>
internal sealed class WebhookFailures
{
    private const int Described = 5;
    private readonly List<string> examples = [];
    private int accepted;
    private int notOk;
    private int refused;
    private int bare;

    public int Accepted => Volatile.Read(ref accepted);

    public bool Webhook(HttpStatusCode status, string body)
    {
        if (status != HttpStatusCode.OK)
        {
            Interlocked.Increment(ref notOk);
            Note($"webhook answered HTTP {(int)status}: {Shorten(body)}");
            return false;
        }

        if (Received(body) != true)
        {
            Interlocked.Increment(ref notOk);
            Note($"webhook answered 200 without a receipt: {Shorten(body)}");
            return false;
        }

        Interlocked.Increment(ref accepted);
        return true;
    }

    /// <summary>A request signed with the wrong secret must be refused: 400, the signature named as the failed check.</summary>
    public bool Refused(HttpStatusCode status, string body)
    {
        if (status == HttpStatusCode.BadRequest && body.Contains("\"check\":\"signature\"", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref refused);
            return true;
        }

        Interlocked.Increment(ref notOk);
        Note($"a wrongly signed webhook was answered HTTP {(int)status}: {Shorten(body)}");
        return false;
    }

    public bool NoAnswer(Exception ex)
    {
        Interlocked.Increment(ref notOk);
        Note($"webhook gave no answer: {ex.GetType().Name}: {ex.Message}");
        return false;
    }

    public bool Bare(RequestFailedException ex)
    {
        Interlocked.Increment(ref bare);
        Note($"bare write failed: {ex.Status} {ex.ErrorCode}");
        return false;
    }

    public FailureCounts Snapshot()
    {
        lock (examples)
        {
            return new FailureCounts(Accepted, Volatile.Read(ref refused), Volatile.Read(ref notOk), Volatile.Read(ref bare), [.. examples]);
        }
    }

    private void Note(string example)
    {
        lock (examples)
        {
            if (examples.Count < Described)
            {
                examples.Add(example);
                Progress.Line($"webhooks: {example}");
            }
        }
    }

    private static bool? Received(string body)
    {
        try
        {
            using var receipt = JsonDocument.Parse(body);
            return receipt.RootElement.ValueKind == JsonValueKind.Object
                && receipt.RootElement.TryGetProperty("received", out var received)
                && received.ValueKind is JsonValueKind.True or JsonValueKind.False
                ? received.GetBoolean()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";
}

/// <param name="Accepted">Webhook requests answered 200 as a new event, warm-up included.</param>
/// <param name="Refused">Wrongly signed webhook requests answered 400 for their signature, warm-up included.</param>
/// <param name="NotOk">Webhook requests answered other than 200 (400 for a wrongly signed one), or 200 without a receipt, or not at all, warm-up included.</param>
internal sealed record FailureCounts(int Accepted, int Refused, int NotOk, int BareFailures, IReadOnlyList<string> Examples);
