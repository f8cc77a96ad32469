using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using DecentCloud.Functions.Billing;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Ledger.Releases;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace DecentCloud.Benchmarks;

/// <param name="Contracts">Paid contracts in service, each released once per run.</param>
internal sealed record ReleasesPlan(int Contracts)
{
    public static ReleasesPlan Full { get; } = new(10_000);

    public static ReleasesPlan Quick { get; } = new(500);
}

/// <summary>One run of the release computation over every contract: its time and the storage requests it made, by kind.</summary>
internal sealed record ReleaseRunFigures(string Name, TimeSpan Took, ReleaseRun Run, IReadOnlyDictionary<string, long> Requests)
{
    public long TotalRequests => Requests.Values.Sum();
}

/// <summary>
/// The release timer's work (<see cref="PaymentReleases.ReleaseAllAsync"/>, what <c>ReleasePayments</c> runs) over many paid
/// contracts in service, in this process against a private Azurite: the first run of a period releases every contract,
/// the second run of the same period (another instance, or a rerun after a crash) finds each released. Every storage
/// request the releases make is counted by a policy in the Azure SDK's pipeline.
/// </summary>
internal static class ReleasesBenchmark
{
    private static readonly DateTimeOffset PeriodEnd = new(2026, 3, 11, 0, 0, 0, TimeSpan.Zero);

    public static async Task<ReleasesResult> RunAsync(ReleasesPlan plan, CancellationToken cancellationToken)
    {
        Progress.Line("releases: starting a private Azurite");
        await using var azurite = await Azurite.StartAsync(cancellationToken);
        var setup = Stopwatch.StartNew();
        await SeedAsync(new TableServiceClient(azurite.ConnectionString), plan, cancellationToken);
        Progress.Line($"releases: {plan.Contracts} paid contracts in service written in {setup.Elapsed.TotalSeconds:F0} s");

        var counter = new RequestCounter();
        var options = new TableClientOptions();
        options.AddPolicy(counter, HttpPipelinePosition.PerRetry);
        var contracts = new ContractStore(new TableServiceClient(azurite.ConnectionString, options));
        var releases = new PaymentReleases(new ContractRows(contracts), new FixedOptions(new ReleaseOptions { IntervalHours = 24, PlatformFeeBps = 250 }), NullLogger<PaymentReleases>.Instance);

        var loadBefore = LoadAverage.Read();
        var runs = new List<ReleaseRunFigures>();
        foreach (var name in new[] { "first run of the period", "second run of the same period" })
        {
            counter.Reset();
            var clock = Stopwatch.StartNew();
            var run = await releases.ReleaseAllAsync(PeriodEnd.AddMinutes(7), cancellationToken);
            clock.Stop();
            runs.Add(new ReleaseRunFigures(name, clock.Elapsed, run, counter.Snapshot()));
            Progress.Line($"releases: {name}: {run.Contracts} contracts, {run.Released} released, {run.Failed} failed in {clock.Elapsed.TotalSeconds:F1} s; {counter.Snapshot().Values.Sum()} storage requests");
        }

        return new ReleasesResult(plan, runs, loadBefore, LoadAverage.Read());
    }

    /// <summary>Each contract as renting, paying and the orchestration leave it: the contract row, its paid payment and its history, in one batch.</summary>
    private static async Task SeedAsync(TableServiceClient tables, ReleasesPlan plan, CancellationToken cancellationToken)
    {
        var table = tables.GetTableClient(ContractStore.TableName);
        await table.CreateIfNotExistsAsync(cancellationToken);
        var provisioned = PeriodEnd.AddDays(-10);
        await Parallel.ForEachAsync(Enumerable.Range(0, plan.Contracts), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, token) =>
        {
            var id = ContractStore.NewId();
            var session = $"cs_bench_{i:D6}";
            var moves = new (ContractState To, DateTimeOffset At)[]
            {
                (ContractState.Accepted, provisioned.AddHours(-2)),
                (ContractState.Provisioning, provisioned.AddHours(-1)),
                (ContractState.Provisioned, provisioned),
                (ContractState.Active, provisioned.AddMinutes(1)),
            };
            var from = ContractState.Requested.Name();
            var rows = new List<ITableEntity>
            {
                new ContractEntity
                {
                    PartitionKey = id, RenterKey = new string('r', 64), ProviderKey = $"{i % 100:D2}{new string('p', 62)}", OfferingId = "bench", Hours = 720,
                    PriceMinor = 1500, Currency = "EUR", SshKey = "ssh-ed25519 AAAA bench", State = ContractState.Active.Name(), PaymentSucceeded = true,
                    PaidSessionId = session, PaidAt = provisioned.AddHours(-3), CreatedAt = provisioned.AddHours(-4), UpdatedAt = provisioned.AddMinutes(1),
                },
                new PaymentEntity
                {
                    PartitionKey = id, RowKey = PaymentEntity.RowKeyFor(session), SessionId = session, Status = PaymentStatus.Paid, Currency = "EUR",
                    AmountSubtotalMinor = 1500, AmountTaxMinor = 285, AmountTotalMinor = 1785, PaidAt = provisioned.AddHours(-3), Method = PaymentMethods.Stripe,
                },
            };
            foreach (var (to, at) in moves)
            {
                rows.Add(new ContractMoveEntity { PartitionKey = id, RowKey = ContractMoveEntity.RowKeyFor(at), From = from, To = to.Name(), By = "bench", At = at });
                from = to.Name();
            }

            await table.SubmitTransactionAsync(rows.Select(r => new TableTransactionAction(TableTransactionActionType.Add, r)), token);
        });
    }

    /// <summary>Counts every request sent to storage (retries included), by method and kind.</summary>
    private sealed class RequestCounter : HttpPipelinePolicy
    {
        private readonly ConcurrentDictionary<string, long> counts = new();

        public void Reset() => counts.Clear();

        public SortedDictionary<string, long> Snapshot() => new(counts);

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Count(message);
            ProcessNext(message, pipeline);
        }

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Count(message);
            return ProcessNextAsync(message, pipeline);
        }

        private void Count(HttpMessage message)
        {
            var path = message.Request.Uri.Path;
            var query = message.Request.Uri.Query;
            var kind = path.EndsWith("$batch", StringComparison.Ordinal) ? "batch write (table transaction)"
                : message.Request.Method == RequestMethod.Get && path.Contains("(PartitionKey=", StringComparison.Ordinal) ? "point read"
                : message.Request.Method == RequestMethod.Get && query.Contains("$filter", StringComparison.Ordinal) && query.Contains("PartitionKey%20eq", StringComparison.Ordinal) ? "partition query page"
                : message.Request.Method == RequestMethod.Get ? "scan query page"
                : message.Request.Method == RequestMethod.Post && path.EndsWith("Tables", StringComparison.Ordinal) ? "create table if missing (once per store)"
                : $"{message.Request.Method} other";
            counts.AddOrUpdate(kind, 1, (_, n) => n + 1);
        }
    }

    private sealed class FixedOptions(ReleaseOptions value) : IOptionsMonitor<ReleaseOptions>
    {
        public ReleaseOptions CurrentValue => value;

        public ReleaseOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<ReleaseOptions, string?> listener) => null;
    }
}
