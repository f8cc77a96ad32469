using System.Text;
using DecentCloud.Functions.Billing.StripeIntegration;

namespace DecentCloud.Benchmarks;

/// <summary>The webhook's timings against the bare writes, and what they mean against the targets.</summary>
internal sealed record WebhookResult(
    WebhookPlan Plan,
    string MessageEncoding,
    MessageSizes Sizes,
    IReadOnlyList<SeriesTimings> Sequential,
    IReadOnlyList<BurstRun> Bursts,
    FailureCounts Failures,
    StoredEvents Stored,
    int BareRetries,
    IReadOnlyList<ProblemKind> HostProblems,
    int ExpectedWarnings,
    TimeSpan AzuriteAge,
    string LoadBefore,
    string LoadAfter)
{
    public const string SectionId = "webhooks";
    public const double TargetRatio = 2.0;
    public const double TargetRate = 300;

    public double WebhookMedian => Stats.Median(Of(WebhookSeries.Webhook).Ms);

    public double PutMedian => Stats.Median(Of(WebhookSeries.QueuePut).Ms);

    /// <summary>The wrongly signed webhook: the host and the worker without a storage write.</summary>
    public double RefusedMedian => Stats.Median(Of(WebhookSeries.Refused).Ms);

    public double Ratio => WebhookMedian / PutMedian;

    public BurstRun WebhookBurst => Bursts.Single(b => b.Series == WebhookSeries.Webhook);

    public bool RatioMet => Ratio <= TargetRatio;

    public bool RateMet => WebhookBurst.Rate >= TargetRate;

    /// <summary>Every webhook request, warm-up included, was answered 200 for a new event, and every wrongly signed one 400.</summary>
    public bool AnswersMet => Failures.NotOk == 0;

    /// <summary>Each acknowledgement left its queue message, and (its body fitting in the message) no row: the processor records it.</summary>
    public bool StoredMet => Stored.Rows == 0 && Stored.Messages == Failures.Accepted;

    public bool Passed => RatioMet && RateMet && AnswersMet && StoredMet;

    public static string Name(WebhookSeries series) => series switch
    {
        WebhookSeries.Webhook => "webhook",
        WebhookSeries.QueuePut => "queue put",
        WebhookSeries.TableInsert => "table insert",
        WebhookSeries.Refused => "refused",
        _ => "insert ∥ put",
    };

    public void PrintSummary()
    {
        foreach (var timings in Sequential)
        {
            Progress.Line($"webhooks: one at a time, {Name(timings.Series),-12} median {Stats.Median(timings.Ms):F2} ms, p90 {Stats.Percentile(timings.Ms, 90):F2} ms, p99 {Stats.Percentile(timings.Ms, 99):F2} ms");
        }

        Progress.Line($"webhooks: webhook/queue put medians {Ratio:F2}x (target <= {TargetRatio:F1}x): {Verdict(RatioMet)}");
        Progress.Line($"webhooks: {WebhookBurst.Rate:F0} webhooks/s with {WebhookBurst.Concurrency} senders (target >= {TargetRate:F0}/s): {Verdict(RateMet)}");
        Progress.Line($"webhooks: {Failures.NotOk} answers not 200 or without a receipt (or, wrongly signed, not 400), of {Failures.NotOk + Failures.Accepted + Failures.Refused} (target 0): {Verdict(AnswersMet)}");
        Progress.Line($"webhooks: {Stored.Rows} rows and {Stored.Messages} messages for {Failures.Accepted} acknowledged events: {Verdict(StoredMet)}");
        Progress.Line($"webhooks: bare writes: {Failures.BareFailures} failed, {BareRetries} SDK retries; host and worker: {HostProblems.Sum(p => p.Count)} warnings or errors logged, besides the {ExpectedWarnings} refusals the wrongly signed requests caused");
        Progress.Line($"webhooks: 1-minute load average {LoadBefore} before, {LoadAfter} after (2 or more on 2 cores means other work shared the machine)");
    }

    public string ToMarkdown(Machine machine)
    {
        var md = new StringBuilder();
        var floor = Stats.Median(Of(WebhookSeries.InsertAndPut).Ms);
        var floorBurst = Bursts.Single(b => b.Series == WebhookSeries.InsertAndPut);
        md.AppendLine("## Stripe webhook: acknowledgement through the local host and the worker against a bare queue put");
        md.AppendLine();
        md.AppendLine($"{machine.Markdown} 1-minute load average {LoadBefore} before the runs, {LoadAfter} after.");
        md.AppendLine();
        md.AppendLine($"**{Verdict(Passed)}**: `POST /api/v1/webhooks/stripe` is answered in {WebhookMedian:F2} ms (median, one request at a time), " +
                      $"{Ratio:F2}× a bare queue put of the same message ({PutMedian:F2} ms); with {WebhookBurst.Concurrency} concurrent senders the host and its worker " +
                      $"acknowledge {WebhookBurst.Rate:F0} webhooks/s. {Failures.NotOk} of {Failures.NotOk + Failures.Accepted + Failures.Refused} answers were not the one expected.");
        md.AppendLine();
        md.AppendLine("What the webhook does per request, so the ratio can be read: it reads the body, verifies the `Stripe-Signature` header " +
                      "(HMAC-SHA256 over `{t}.{body}` with the endpoint secret, Stripe.net's `EventUtility.ValidateSignature`), parses the event's head, " +
                      $"makes one storage write, the put of the event (body included, a message that never expires) on the `{StripeWebhook.QueueName}` queue, " +
                      $"and answers 200 `{{ received: true }}`. The queue function records the event's row in `{StripeEventStore.TableName}` (the dedupe by event id) " +
                      "when it takes the message; only a body too large for a message has its row written first, by the webhook. " +
                      "The bare table insert and insert ∥ put rows below show what recording the row before answering would cost: " +
                      "an earlier version did that, and measured 2.23× a queue put.");
        md.AppendLine();
        md.AppendLine("| target | measured | verdict |");
        md.AppendLine("|---|---|---|");
        md.AppendLine($"| webhook median ≤ {TargetRatio:F0}× bare queue put median (one at a time) | {Ratio:F2}× ({WebhookMedian:F2} ms against {PutMedian:F2} ms) | {Verdict(RatioMet)} |");
        md.AppendLine($"| ≥ {TargetRate:F0} webhooks/s with {WebhookBurst.Concurrency} concurrent senders | {WebhookBurst.Rate:F0}/s | {Verdict(RateMet)} |");
        md.AppendLine($"| every webhook answered 200 `received`, every wrongly signed one 400 | {Failures.NotOk} not, of {Failures.NotOk + Failures.Accepted + Failures.Refused} | {Verdict(AnswersMet)} |");
        md.AppendLine($"| one queue message per acknowledged event (and no row: the processor writes it) | {Stored.Messages} messages, {Stored.Rows} rows, {Failures.Accepted} events | {Verdict(StoredMet)} |");
        md.AppendLine();
        md.AppendLine($"One request at a time ({Plan.Rounds} rounds, each one request of every kind, the order rotated from round to round):");
        md.AppendLine();
        md.AppendLine("| request | median | p90 | p99 | min | max | failed | requests |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var timings in Sequential)
        {
            md.AppendLine($"| {Describe(timings.Series)} | {Stats.Median(timings.Ms):F2} ms | {Stats.Percentile(timings.Ms, 90):F2} ms | {Stats.Percentile(timings.Ms, 99):F2} ms " +
                          $"| {timings.Ms.Min():F2} ms | {timings.Ms.Max():F2} ms | {timings.Failures} | {timings.Ms.Count} |");
        }

        md.AppendLine();
        md.AppendLine($"Where the webhook's time goes (medians): the host and the worker on their own, with no storage write, answer a wrongly signed " +
                      $"event in {RefusedMedian:F2} ms: the HTTP request and answer on loopback through the client and the host's Kestrel, the host passing the " +
                      "request on to the worker (a gRPC invocation message, and the request itself forwarded over loopback HTTP to the worker's own Kestrel, as " +
                      "the Functions host does with the ASP.NET Core integration), the worker pairing the two, its middleware, reading the body, the signature " +
                      "check, the refusal's log line, the answer back over HTTP and the invocation's end over gRPC, which the host waits for before it passes the " +
                      "answer on. The accepted webhook adds the parsing, the " +
                      $"queue message and the put itself, made from the worker's process: {WebhookMedian - RefusedMedian:F2} ms, against the bare put's {PutMedian:F2} ms. " +
                      $"So the {TargetRatio:F0}× target leaves the host and the worker the time of one put ({PutMedian:F2} ms here) for what they cost besides it. " +
                      $"Writing the row too, at once, would make the storage work alone {floor:F2} ms ({floor / PutMedian:F2}× a put), " +
                      $"leaving the host and the worker {(TargetRatio * PutMedian) - floor:F2} ms within the target.");
        md.AppendLine();
        md.AppendLine($"Concurrent bursts ({Plan.BurstRequests} requests each, {WebhookBurst.Concurrency} in flight at a time, each request a new event):");
        md.AppendLine();
        md.AppendLine("| request | per second | burst time | median latency | p90 | p99 | CPU per 1000: this process | worker | failed |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var burst in Bursts)
        {
            var ms = burst.Timings.Ms;
            md.AppendLine($"| {Describe(burst.Series)} | {burst.Rate:F0} | {burst.Seconds:F2} s | {Stats.Median(ms):F1} ms | {Stats.Percentile(ms, 90):F1} ms " +
                          $"| {Stats.Percentile(ms, 99):F1} ms | {burst.SelfCpuMsPerThousand:F0} ms | {(burst.Series == WebhookSeries.Webhook ? $"{burst.WorkerCpuMsPerThousand:F0} ms" : "–")} | {burst.Timings.Failures} |");
        }

        md.AppendLine();
        md.AppendLine($"Under load the webhook reaches {WebhookBurst.Rate / floorBurst.Rate:P0} of the rate of the same writes made bare ({floorBurst.Rate:F0}/s): " +
                      "Azurite (one Node.js thread), the benchmark's process and the worker share the 2 cores, so the host's and the worker's CPU per request " +
                      "(the CPU columns; the bare rows are only the storage client's) is taken from Azurite too.");
        md.AppendLine();
        md.AppendLine("Method: one private in-memory Azurite for the whole run, started for it; the function app's Release build output run by the local " +
                      "Functions host (infra/local/FunctionsHost) in the benchmark's process, its isolated worker in a process of its own, the host's Kestrel on a " +
                      "free loopback port, with the app's own host.json; the settings those of local.settings.sample.json with the benchmark's storage, " +
                      $"`STRIPE_WEBHOOK_SECRET` set to the benchmark's own secret, and `AzureWebJobs.ProcessStripeEvent.Disabled=true`: the function that processes " +
                      "the queued events is off, so only the acknowledgement is measured (with it on, it would take each event off the queue and read and write " +
                      "the contract's rows while the next events arrive, on the same Azurite and the same cores). The app's other queue listeners and timers run as deployed. " +
                      "Log levels of the host and the worker are raised to Warning, to keep the console readable; this turns off the webhook's one Information line per event, " +
                      "which a deployed app writes. " +
                      $"Each event is fixtures.json's `event` around its `checkout.session`, completed and paid, `{StripeEventSamples.EventType}`, " +
                      $"with an id of its own ({Sizes.BodyBytes} bytes of JSON), signed as Stripe signs, with the current time, before its timing starts " +
                      "(the refused series signs the same event the same way with another secret). " +
                      $"The bare requests use the Azure SDK from the same process on the same Azurite, with their own queue and table (`{WebhookBenchmark.BareQueueName}`, `{WebhookBenchmark.BareTableName}`): " +
                      $"the queue put sends the message the webhook would queue for a new event of the same size ({Sizes.MessageJsonBytes} bytes of JSON, " +
                      $"{Sizes.MessageWireChars} characters as sent, {MessageEncoding}, the host's encoding, a time-to-live of -1 as the webhook gives it: the same put), " +
                      "the table insert the row the processor writes (same properties, same body), insert ∥ put both at once. " +
                      "Webhook requests go through one `HttpClient` (`SocketsHttpHandler`, pooled connections) to the host, timed from `SendAsync` until the answer is read; " +
                      "its status and its `received` flag are checked after the timing. " +
                      $"Warm-up, not counted: {Plan.WarmUpRounds} sequential rounds and a burst of {Plan.WarmUpBurst} webhooks. " +
                      "The queue and the table grow during the run (nothing takes the messages off); the rounds interleave the kinds so each meets the same lengths. " +
                      $"The bursts run in the order of the table above. At the end the `{StripeEventStore.TableName}` rows and the `{StripeWebhook.QueueName}` messages are counted " +
                      "against the events acknowledged (warm-up included). " +
                      $"The bare writes needed {BareRetries} SDK retries, {Failures.BareFailures} failed. Azurite had been running {AzuriteAge.TotalSeconds:F0} s at the end. " +
                      "CPU is processor time during the burst: the benchmark's process (the load's client and, for the webhook, the local host) and the worker's; Azurite's is not in it. " +
                      "p90 and p99 are nearest-rank percentiles.");
        md.AppendLine();
        md.AppendLine(ProblemKind.Markdown(HostProblems, "During the run, the host and the worker"));
        md.AppendLine();
        md.AppendLine($"Not counted there: the {ExpectedWarnings} warnings \"Refused a Stripe webhook\", one for each wrongly signed request, as a deployed app logs them.");
        if (Failures.Examples.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("The first failures seen:");
            md.AppendLine();
            foreach (var example in Failures.Examples)
            {
                md.AppendLine($"- {example}");
            }
        }

        md.AppendLine();
        md.AppendLine("Reading the figures: the absolute times are Azurite's on this machine, not a storage account's; the ratio is what speaks for the host, " +
                      "since both sides make the same writes to the same Azurite in the same minutes.");
        return md.ToString();
    }

    private SeriesTimings Of(WebhookSeries series) => Sequential.Single(t => t.Series == series);

    private static string Describe(WebhookSeries series) => series switch
    {
        WebhookSeries.Webhook => "webhook through the local host and the worker (verify, queue put, 200)",
        WebhookSeries.QueuePut => "bare queue put, same message",
        WebhookSeries.TableInsert => "bare table insert, same row",
        WebhookSeries.Refused => "the same event signed with another secret, through the local host and the worker (400, nothing stored)",
        _ => "bare insert ∥ put (recording the row before answering)",
    };

    private static string Verdict(bool met) => met ? "PASS" : "FAIL";
}
