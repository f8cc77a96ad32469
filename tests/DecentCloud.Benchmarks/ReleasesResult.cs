using System.Text;

namespace DecentCloud.Benchmarks;

/// <summary>The release runs and what they mean against the target.</summary>
internal sealed record ReleasesResult(ReleasesPlan Plan, IReadOnlyList<ReleaseRunFigures> Runs, string LoadBefore, string LoadAfter)
{
    public const string SectionId = "releases";

    /// <summary>The hourly timer must finish a period's releases well within its hour: 10,000 contracts in at most 10 minutes.</summary>
    public static readonly TimeSpan TargetFor10000 = TimeSpan.FromMinutes(10);

    private ReleaseRunFigures First => Runs[0];

    public bool Passed => First.Run.Failed == 0 && First.Run.Released == Plan.Contracts && First.Took.TotalMilliseconds / Plan.Contracts * 10_000 <= TargetFor10000.TotalMilliseconds;

    public void PrintSummary()
    {
        foreach (var run in Runs)
        {
            Progress.Line($"releases: {run.Name}: {run.Took.TotalSeconds:F1} s for {run.Run.Contracts} contracts = {PerContractMs(run):F2} ms per contract, " +
                          $"{(double)run.TotalRequests / Plan.Contracts:F2} storage requests per contract ({string.Join(", ", run.Requests.Select(r => $"{r.Key} {r.Value}"))})");
        }

        Progress.Line($"releases: 1-minute load average {LoadBefore} before, {LoadAfter} after (2 or more on 2 cores means other work shared the machine); {(Passed ? "PASS" : "FAIL")}");
    }

    public string ToMarkdown(Machine machine)
    {
        var md = new StringBuilder();
        md.AppendLine("## Releases: the release timer over paid contracts in service");
        md.AppendLine();
        md.AppendLine($"{machine.Markdown} 1-minute load average {LoadBefore} before the runs, {LoadAfter} after.");
        md.AppendLine();
        md.AppendLine($"**{(Passed ? "PASS" : "FAIL")}**: releasing {Plan.Contracts:N0} contracts for one period took {First.Took.TotalSeconds:F1} s " +
                      $"({PerContractMs(First):F2} ms and {(double)First.TotalRequests / Plan.Contracts:F2} storage requests per contract); target: 10,000 contracts within {TargetFor10000.TotalMinutes:F0} minutes, well inside the timer's hour.");
        md.AppendLine();
        md.AppendLine("| run | contracts | released | failed | time | per contract | contracts/s | storage requests | per contract |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var run in Runs)
        {
            md.AppendLine($"| {run.Name} | {run.Run.Contracts:N0} | {run.Run.Released:N0} | {run.Run.Failed} | {run.Took.TotalSeconds:F1} s | {PerContractMs(run):F2} ms | " +
                          $"{run.Run.Contracts / run.Took.TotalSeconds:F0} | {run.TotalRequests:N0} | {(double)run.TotalRequests / Plan.Contracts:F2} |");
        }

        md.AppendLine();
        md.AppendLine("| run | storage requests by kind |");
        md.AppendLine("|---|---|");
        foreach (var run in Runs)
        {
            md.AppendLine($"| {run.Name} | {string.Join("; ", run.Requests.Select(r => $"{r.Key}: {r.Value:N0} ({(double)r.Value / Plan.Contracts:F2} per contract)"))} |");
        }

        md.AppendLine();
        md.AppendLine($"Method: one private in-memory Azurite, started for the run; {Plan.Contracts:N0} contracts written first (not timed) as renting, paying and the " +
                      "orchestration leave them: the contract row (paid, active, 720 hours), its paid payment of 17.85 EUR and four moves, provisioned ten days before the " +
                      "period's end, spread over 100 providers. Then `PaymentReleases.ReleaseAllAsync` (what the `ReleasePayments` timer runs, 8 contracts at a time) " +
                      "called in the benchmark's process (Release) with a daily period and a 2.5 % fee, twice for the same period: the first run releases ten days of each " +
                      "contract, the second (another instance, or a rerun after a crash) finds each payment released through the period. Every request to storage is " +
                      "counted by a policy in the Azure SDK's pipeline (per retry, so retries count): per contract the first run reads the payment row, queries the " +
                      "contract's moves and writes one table transaction (contract and payment If-Match, the ledger transaction added); the scan for paid contracts adds " +
                      "a page per 1,000 contracts. The second run reads the payment row and stops. Azurite in memory on the same cores is faster than Azure Table storage " +
                      "per request and slower under parallel load, so the request counts are the figure that carries over; the time is this machine's.");
        return md.ToString();
    }

    private double PerContractMs(ReleaseRunFigures run) => run.Took.TotalMilliseconds / Math.Max(1, run.Run.Contracts);
}
