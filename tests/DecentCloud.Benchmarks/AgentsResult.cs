using System.Text;

namespace DecentCloud.Benchmarks;

/// <summary>Signed polls against unsigned reads of the same rows, the open-loop latency, and what they mean against the targets.</summary>
internal sealed record AgentsResult(
    AgentsPlan Plan,
    IReadOnlyList<PollBurst> Bursts,
    OpenLoopRun OpenLoop,
    IReadOnlyList<string> FailureExamples,
    IReadOnlyList<ProblemKind> HostProblems,
    string LoadBefore,
    string LoadBetween,
    string LoadAfter)
{
    public const string SectionId = "agents";
    public const double TargetShare = 0.5;

    public double SignedRate => Rate(PollSeries.Signed);

    public double UnsignedRate => Rate(PollSeries.Unsigned);

    public double Share => SignedRate / UnsignedRate;

    public bool ShareMet => Share >= TargetShare;

    public int BurstFailures => Bursts.Sum(b => b.Failures);

    /// <summary>Every poll and read was answered with the provider's pending work.</summary>
    public bool AnswersMet => BurstFailures == 0 && OpenLoop.Failures == 0;

    public bool Passed => ShareMet && AnswersMet;

    public static string Name(PollSeries series) => series == PollSeries.Signed ? "signed poll" : "unsigned read";

    public void PrintSummary()
    {
        foreach (var series in new[] { PollSeries.Signed, PollSeries.Unsigned })
        {
            var ms = Of(series).SelectMany(b => b.Ms).ToList();
            Progress.Line($"agents: {Name(series),-13} {Rate(series):F0}/s over {Of(series).Sum(b => b.Requests)} requests, {Plan.Concurrency} at a time; median {Stats.Median(ms):F1} ms, p99 {Stats.Percentile(ms, 99):F1} ms");
        }

        Progress.Line($"agents: signed polls at {Share:P0} of the unsigned reads' rate (target >= {TargetShare:P0}): {Verdict(ShareMet)}");
        Progress.Line($"agents: open loop of {OpenLoop.Agents} agents every {OpenLoop.PollSeconds} s: p50 {P(50):F1} ms, p90 {P(90):F1} ms, p99 {P(99):F1} ms over {OpenLoop.Due} polls; {OpenLoop.Failures} failed");
        Progress.Line($"agents: {BurstFailures + OpenLoop.Failures} answers without the provider's pending work (target 0): {Verdict(AnswersMet)}");
        Progress.Line($"agents: 1-minute load average {LoadBefore} before, {LoadBetween} between the bursts and the open loop, {LoadAfter} after (2 or more on 2 cores means other work shared the machine)");
    }

    public string ToMarkdown(Machine machine)
    {
        var md = new StringBuilder();
        var signed = Of(PollSeries.Signed).ToList();
        var unsigned = Of(PollSeries.Unsigned).ToList();
        md.AppendLine("## Agents: signed pending-work polls through the local host and the worker against unsigned reads of the same rows");
        md.AppendLine();
        md.AppendLine($"{machine.Markdown} 1-minute load average {LoadBefore} before the bursts, {LoadBetween} before the open loop, {LoadAfter} after.");
        md.AppendLine();
        md.AppendLine($"**{Verdict(Passed)}**: dc-agent's poll `GET /api/v1/providers/{{pubkey}}/provisioning/pending`, signed by the agent's key, is answered " +
                      $"{SignedRate:F0} times a second with {Plan.Concurrency} in flight, {Share:P0} of the rate of the same reads made directly through the " +
                      $"Azure SDK ({UnsignedRate:F0}/s); {OpenLoop.Agents:N0} agents each polling every {OpenLoop.PollSeconds} s " +
                      $"({OpenLoop.Agents / (double)OpenLoop.PollSeconds:F1} polls/s) see p50 {P(50):F1} ms, p90 {P(90):F1} ms, p99 {P(99):F1} ms; " +
                      $"{OpenLoop.Failures} of {OpenLoop.Due} polls failed.");
        md.AppendLine();
        md.AppendLine("| target | measured | verdict |");
        md.AppendLine("|---|---|---|");
        md.AppendLine($"| signed polls/s ≥ {TargetShare:P0} of unsigned reads/s of the same rows | {Share:P0} ({SignedRate:F0}/s against {UnsignedRate:F0}/s) | {Verdict(ShareMet)} |");
        md.AppendLine($"| p99 latency, {OpenLoop.Agents:N0} agents polling every {OpenLoop.PollSeconds} s (reported; no target set) | {P(99):F1} ms | – |");
        md.AppendLine($"| every answer the provider's pending work | {BurstFailures + OpenLoop.Failures} not, of {Bursts.Sum(b => b.Requests) + OpenLoop.Due} | {Verdict(AnswersMet)} |");
        md.AppendLine();
        md.AppendLine($"Closed-loop bursts ({Plan.Rounds} rounds of {Plan.BurstSeconds} s per kind, the kinds' order alternating from round to round, {Plan.Concurrency} requests in flight, each request a random agent's):");
        md.AppendLine();
        md.AppendLine("| request | per second | requests | median | p90 | p99 | CPU per 1000: this process | worker | failed |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (series, bursts) in new[] { (PollSeries.Signed, signed), (PollSeries.Unsigned, unsigned) })
        {
            var ms = bursts.SelectMany(b => b.Ms).ToList();
            var requests = bursts.Sum(b => b.Requests);
            md.AppendLine($"| {Name(series)} | {Rate(series):F0} | {requests} | {Stats.Median(ms):F1} ms | {Stats.Percentile(ms, 90):F1} ms | {Stats.Percentile(ms, 99):F1} ms " +
                          $"| {bursts.Sum(b => b.Cpu.Self.TotalMilliseconds) / requests * 1000:F0} ms | {(series == PollSeries.Signed ? $"{bursts.Sum(b => b.Cpu.Worker.TotalMilliseconds) / requests * 1000:F0} ms" : "–")} " +
                          $"| {bursts.Sum(b => b.Failures)} |");
        }

        md.AppendLine();
        md.AppendLine($"Each burst: {string.Join(", ", Bursts.Select(b => $"{Name(b.Series)} {b.Requests / b.Seconds:F0}/s"))}.");
        md.AppendLine();
        md.AppendLine($"Open loop ({OpenLoop.Agents:N0} agents, one poll every {OpenLoop.PollSeconds * 1000.0 / OpenLoop.Agents:F0} ms in turn, {OpenLoop.Seconds:F0} s, latency from the moment each poll was due):");
        md.AppendLine();
        md.AppendLine("| polls | p50 | p90 | p99 | max | failed | latest start after due | CPU per 1000: this process | worker |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        md.AppendLine($"| {OpenLoop.Due} | {P(50):F1} ms | {P(90):F1} ms | {P(99):F1} ms | {OpenLoop.Ms.Max():F1} ms | {OpenLoop.Failures} | {OpenLoop.LateStartMs:F1} ms " +
                      $"| {OpenLoop.Cpu.Self.TotalMilliseconds / OpenLoop.Due * 1000:F0} ms | {OpenLoop.Cpu.Worker.TotalMilliseconds / OpenLoop.Due * 1000:F0} ms |");
        md.AppendLine();
        if (FailureExamples.Count > 0)
        {
            md.AppendLine("First failures: " + string.Join("; ", FailureExamples.Select(e => $"`{e}`")) + ".");
            md.AppendLine();
        }

        md.AppendLine("What a poll does, so the share can be read: the host passes the request to the worker; the worker checks the signature " +
                      "(Ed25519ph over method, path, timestamp, nonce and body), records the nonce (one table insert: a replayed request is refused), " +
                      "reads the agent's delegation (one point read) and checks its permission, then `ListPendingWork` reads the provider's pending work: " +
                      "a scan of the `Contracts` table filtered on the provider and the waiting states (the table has no index by provider; every contract " +
                      "row of every provider is examined), the lock and instance rows of each waiting contract, the provider's rows of `ProviderInstances`, " +
                      "and for each instance not reported terminated its contract, instance and terminated rows (and for one still running, its termination " +
                      "mark; for one ended, its lock), and answers the JSON list. The unsigned read makes those same reads, through the same " +
                      "`ProvisioningStore` over the Azure SDK from the benchmark's process, and builds the same `Work` items: the difference is the HTTP " +
                      "request through the host and the worker, the signature, the nonce insert, the delegation read and the JSON.");
        md.AppendLine();
        md.AppendLine($"Data: {Plan.Providers} providers, each with {Plan.AgentsPerProvider} agents ({Plan.Agents:N0} agent keys, each delegated by its provider " +
                      $"through `POST /api/v1/providers/{{pubkey}}/agent-delegations` with all four permissions), {Plan.Waiting} paid accepted contracts waiting, " +
                      $"{Plan.Running} active with a recorded instance and {Plan.Ended} expired with an instance not yet reported terminated: {Plan.Contracts:N0} contracts, " +
                      $"so each poll answers {Plan.Waiting} to provision and {Plan.Ended} to terminate (checked on every answer). Contracts, leases, reports and " +
                      "instances are written through the app's stores from the benchmark's process, as renting, paying, accepting and the agents' reports leave them; " +
                      "no poll changes them.");
        md.AppendLine();
        md.AppendLine("Method: one private in-memory Azurite for the whole run, started for it; the function app's Release build output run by the local " +
                      "Functions host (infra/local/FunctionsHost) in the benchmark's process, its isolated worker in a process of its own, on a free loopback " +
                      "port, with the app's own host.json; the settings those of local.settings.sample.json with the benchmark's storage, and " +
                      "`AzureWebJobs.ProbeContracts.Disabled=true` (the probe would connect to the instances' documentation addresses every 5 minutes on the same " +
                      "cores); the app's other timers and listeners run as deployed. Log levels of the host and the worker are raised to Warning. " +
                      "Requests go through one `HttpClient` (`SocketsHttpHandler`, pooled connections); each is signed with its agent's key just before it is sent " +
                      "(the signing is inside the timing) and carries `X-Agent-Pubkey`; its status and its counts are checked after the timing. " +
                      $"Warm-up, not counted: {Plan.WarmUpSeconds} s of each kind. The closed-loop rate is requests answered over the bursts' total time. " +
                      "The open loop sends each agent's poll when it is due whatever the earlier answers' latency (agents do not wait for each other), so a " +
                      "slow answer cannot lower the load as it would in a closed loop; each latency counts from the moment the poll was due, so a late send " +
                      "counts too. The nonce table grows by one row a signed request during the run. " +
                      "The machine is shared with other work (see the load averages above): the figures are noisy, and the rate share and the latencies are " +
                      "those of a loaded 2-core machine, not of Azure.");
        md.AppendLine();
        md.AppendLine("Run: `dotnet run -c Release --project tests/DecentCloud.Benchmarks -- agents` (a few minutes; `--quick` for a short try without writing here).");
        return md.ToString();
    }

    private IEnumerable<PollBurst> Of(PollSeries series) => Bursts.Where(b => b.Series == series);

    private double Rate(PollSeries series) => Of(series).Sum(b => b.Requests) / Of(series).Sum(b => b.Seconds);

    private double P(double percent) => Stats.Percentile(OpenLoop.Ms, percent);

    private static string Verdict(bool met) => met ? "PASS" : "FAIL";
}
