using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Azure;
using Azure.Data.Tables;
using DecentCloud.Functions.Billing;
using DecentCloud.Functions.Identity.Delegations;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Provisioning;
using DecentCloud.Functions.Provisioning.Agents;
using DecentCloud.Shared.Signing;
using DecentCloud.Testing;

namespace DecentCloud.Benchmarks;

/// <param name="Providers">Providers, each with <paramref name="AgentsPerProvider"/> agents (each its own key and delegation).</param>
/// <param name="Waiting">Paid accepted contracts per provider waiting to be provisioned (each poll lists them).</param>
/// <param name="Running">Active contracts per provider with a recorded instance (each poll reads them to see none is to terminate).</param>
/// <param name="Ended">Expired contracts per provider with an instance not reported terminated (each poll lists them to terminate).</param>
/// <param name="BurstSeconds">Length of each closed-loop burst of the rate comparison.</param>
/// <param name="Rounds">Rounds of the rate comparison, each one burst of signed polls and one of unsigned reads, the order alternating.</param>
/// <param name="Concurrency">Requests in flight at a time in a burst.</param>
/// <param name="PollSeconds">Each simulated agent's interval in the open-loop run.</param>
/// <param name="OpenLoopSeconds">Length of the open-loop run.</param>
internal sealed record AgentsPlan(
    int Providers,
    int AgentsPerProvider,
    int Waiting,
    int Running,
    int Ended,
    int WarmUpSeconds,
    int BurstSeconds,
    int Rounds,
    int Concurrency,
    int PollSeconds,
    int OpenLoopSeconds)
{
    public static AgentsPlan Full { get; } = new(250, 4, 2, 1, 1, 10, 15, 3, 16, 30, 120);

    public static AgentsPlan Quick { get; } = new(25, 4, 2, 1, 1, 3, 4, 1, 16, 10, 20);

    public int Agents => Providers * AgentsPerProvider;

    public int Contracts => Providers * (Waiting + Running + Ended);
}

internal enum PollSeries
{
    /// <summary>GET …/provisioning/pending signed by an agent, through the local host and the worker.</summary>
    Signed,

    /// <summary>The same reads of the same rows through the Azure SDK from the benchmark's process: no HTTP, no signature, no delegation.</summary>
    Unsigned,
}

/// <param name="Seconds">From the first request's start to the last one's answer.</param>
internal sealed record PollBurst(PollSeries Series, int Requests, int Failures, double Seconds, IReadOnlyList<double> Ms, CpuSample Cpu);

/// <param name="Ms">Each poll's latency from the moment it was due (so a late start counts), in the order they were due.</param>
internal sealed record OpenLoopRun(int Agents, int PollSeconds, double Seconds, int Due, IReadOnlyList<double> Ms, int Failures, double LateStartMs, CpuSample Cpu);

/// <summary>
/// dc-agent's poll of its pending work (<c>GET /api/v1/providers/{pubkey}/provisioning/pending</c>, signed by the agent's
/// key under its delegation) through the local Functions host and the app's worker, against the same reads of the same
/// rows made directly through the Azure SDK, in the same run on the same private Azurite: polls per second in closed-loop
/// bursts; then an open-loop run of many agents each polling on its own interval, for the latency agents see.
/// </summary>
internal sealed class AgentsBenchmark
{
    private static readonly ContractState[] WaitingStates = [ContractState.Accepted, ContractState.Provisioning];
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    private static readonly string[] AllPermissions = ["fetch_contracts", "provision", "heartbeat", "health_check"];

    private readonly HttpClient http;
    private readonly ProvisioningStore store;
    private readonly AgentsPlan plan;
    private readonly IReadOnlyList<SimulatedAgent> agents;
    private readonly PollFailures failures;
    private readonly HostedApp app;

    private AgentsBenchmark(HttpClient http, ProvisioningStore store, AgentsPlan plan, IReadOnlyList<SimulatedAgent> agents, HostedApp app)
    {
        this.http = http;
        this.store = store;
        this.plan = plan;
        this.agents = agents;
        this.app = app;
        failures = new PollFailures(plan.Waiting, plan.Ended);
    }

    public static async Task<AgentsResult> RunAsync(BuildOutputs outputs, AgentsPlan plan, CancellationToken cancellationToken)
    {
        Progress.Line("agents: starting a private Azurite");
        await using var azurite = await Azurite.StartAsync(cancellationToken);
        var settings = AppSettings.For(azurite.ConnectionString, port: 0);

        // The probe would connect to the instances' (documentation) addresses every 5 minutes, on the same cores.
        settings["AzureWebJobs.ProbeContracts.Disabled"] = "true";

        // The sweep would start a contract orchestration for every paid accepted contract written below, on the same cores.
        settings["AzureWebJobs.SweepContractLifecycles.Disabled"] = "true";
        await using var app = await HostedApp.StartAsync(outputs.FunctionApp, settings, log: null, cancellationToken);
        Progress.Line($"agents: local host listening on {app.BaseAddress} (worker process {app.Log.WorkerProcessId}), ProbeContracts and SweepContractLifecycles disabled");

        var tables = new TableServiceClient(azurite.ConnectionString);
        var contracts = new ContractStore(tables);
        var store = new ProvisioningStore(contracts, new ContractRows(contracts), tables);
        using var handler = new SocketsHttpHandler { UseProxy = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10), MaxConnectionsPerServer = 256 };
        using var http = new HttpClient(handler) { BaseAddress = app.BaseAddress, Timeout = RequestTimeout };

        var setup = Stopwatch.StartNew();
        var agents = await SetUpAsync(http, contracts, store, plan, cancellationToken);
        Progress.Line($"agents: {plan.Providers} providers, {agents.Count} agents with their delegations (through the API), {plan.Contracts} contracts in {setup.Elapsed.TotalSeconds:F0} s");

        var benchmark = new AgentsBenchmark(http, store, plan, agents, app);
        var loadBefore = LoadAverage.Read();
        await benchmark.BurstAsync("warm-up", PollSeries.Signed, plan.WarmUpSeconds, cancellationToken);
        await benchmark.BurstAsync("warm-up", PollSeries.Unsigned, plan.WarmUpSeconds, cancellationToken);
        benchmark.failures.Reset();

        var bursts = new List<PollBurst>();
        for (var round = 0; round < plan.Rounds; round++)
        {
            var order = round % 2 == 0 ? new[] { PollSeries.Signed, PollSeries.Unsigned } : [PollSeries.Unsigned, PollSeries.Signed];
            foreach (var series in order)
            {
                bursts.Add(await benchmark.BurstAsync("measured", series, plan.BurstSeconds, cancellationToken));
            }
        }

        var loadBetween = LoadAverage.Read();
        var openLoop = await benchmark.OpenLoopAsync(cancellationToken);
        var loadAfter = LoadAverage.Read();
        Progress.Line($"agents: {app.Log.Problems} warnings or errors logged by the host and the worker");
        return new AgentsResult(plan, bursts, openLoop, benchmark.failures.Examples(), app.Log.ProblemKinds, loadBefore, loadBetween, loadAfter);
    }

    /// <summary>
    /// Providers, each delegating to its agents through the API (signed by the provider, as dc-agent's <c>register</c>), and
    /// their contracts written as renting, paying, accepting and the agents' reports leave them (the orchestration and billing
    /// are not measured here).
    /// </summary>
    private static async Task<IReadOnlyList<SimulatedAgent>> SetUpAsync(HttpClient http, ContractStore contracts, ProvisioningStore store, AgentsPlan plan, CancellationToken cancellationToken)
    {
        var renter = Ed25519phKey.Generate();
        var providers = Enumerable.Range(0, plan.Providers).Select(_ => Ed25519phKey.Generate()).ToArray();
        var agents = providers.SelectMany(provider => Enumerable.Range(0, plan.AgentsPerProvider).Select(_ => new SimulatedAgent(Ed25519phKey.Generate(), provider.PublicKeyHex))).ToArray();
        var options = new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(agents, options, async (agent, token) =>
        {
            var provider = providers.Single(p => p.PublicKeyHex == agent.ProviderKey);
            var path = $"api/v1/providers/{provider.PublicKeyHex}/agent-delegations";
            using var request = new HttpRequestMessage(HttpMethod.Post, path)
            {
                Content = JsonContent.Create(new { agentPublicKey = agent.Key.PublicKeyHex, permissions = AllPermissions, expiresAt = DateTimeOffset.UtcNow.AddDays(30), label = "benchmark" }),
            };
            await request.Content.LoadIntoBufferAsync(token);
            var body = await request.Content.ReadAsByteArrayAsync(token);
            RequestSigner.CreateHeaders(provider, DateTimeOffset.UtcNow, Guid.NewGuid(), "POST", "/" + path, body).ApplyTo(request.Headers);
            using var response = await http.SendAsync(request, token);
            if (!response.IsSuccessStatusCode)
            {
                throw new BenchmarkException($"The delegation to an agent was refused: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(token)}");
            }
        });

        await Parallel.ForEachAsync(providers, options, async (provider, token) =>
        {
            for (var i = 0; i < plan.Waiting; i++)
            {
                await ContractAsync(contracts, provider.PublicKeyHex, renter.PublicKeyHex, ContractState.Accepted, token);
            }

            for (var i = 0; i < plan.Running + plan.Ended; i++)
            {
                var contract = await ContractAsync(contracts, provider.PublicKeyHex, renter.PublicKeyHex, ContractState.Accepted, token);
                await InstanceAsync(store, contract, agents.First(a => a.ProviderKey == provider.PublicKeyHex).Key.PublicKeyHex, token);
                contract.State = (i < plan.Running ? ContractState.Active : ContractState.Expired).Name();
                await contracts.Table.UpdateEntityAsync(contract, ETag.All, TableUpdateMode.Replace, token);
            }
        });

        return agents;
    }

    private static async Task<ContractEntity> ContractAsync(ContractStore contracts, string providerKey, string renterKey, ContractState state, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var contract = new ContractEntity
        {
            PartitionKey = ContractStore.NewId(),
            RenterKey = renterKey,
            ProviderKey = providerKey,
            OfferingId = "small-vm",
            Hours = 720,
            PriceMinor = 1500,
            Currency = "EUR",
            SshKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM4SmLjN+5JbpBnwySSw+qstvbT+B1vz4L3vuwXZ2/hR renter@laptop",
            State = state.Name(),
            PaymentSucceeded = true,
            PaidAt = now,
            CreatedAt = now,
            UpdatedAt = now,
        };
        return await contracts.TryAddAsync(contract, cancellationToken) ? contract : throw new BenchmarkException($"Contract {contract.PartitionKey} could not be written.");
    }

    /// <summary>The lease, the provisioned report and the instance, as an agent's lock and report leave them.</summary>
    private static async Task InstanceAsync(ProvisioningStore store, ContractEntity contract, string agentKey, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var lease = await store.TryLockAsync(contract.PartitionKey, agentKey, now, now.AddMinutes(1), cancellationToken)
            ?? throw new BenchmarkException($"Contract {contract.PartitionKey} could not be locked.");
        var report = new ProvisioningReportRow { PartitionKey = contract.PartitionKey, RowKey = ProvisioningReportRow.RowKeyFor(now), Status = "provisioned", AgentKey = agentKey, At = now };
        var instance = new InstanceRow
        {
            PartitionKey = contract.PartitionKey,
            ExternalId = $"vm-{contract.PartitionKey}",
            Ipv4 = "203.0.113.10",
            SshPort = 22,
            SshUser = "root",
            SealedVersion = 2,
            SealedEphemeralPubkey = Convert.ToBase64String(new byte[32]),
            SealedNonce = Convert.ToBase64String(new byte[24]),
            SealedCiphertext = Convert.ToBase64String(new byte[80]),
            SealedAad = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(contract.PartitionKey)),
            AgentKey = agentKey,
            RecordedAt = now,
        };
        if (!await store.TryRecordReportAsync(lease, report, instance, contract.ProviderKey, cancellationToken))
        {
            throw new BenchmarkException($"The instance of contract {contract.PartitionKey} could not be recorded.");
        }
    }

    /// <summary>Back-to-back requests of one series by <see cref="AgentsPlan.Concurrency"/> workers for <paramref name="seconds"/>, each a random agent's.</summary>
    private async Task<PollBurst> BurstAsync(string label, PollSeries series, int seconds, CancellationToken cancellationToken)
    {
        var ms = new List<double>();
        var failed = 0;
        var cpu = app.Cpu();
        var clock = Stopwatch.StartNew();
        var until = TimeSpan.FromSeconds(seconds);
        await Parallel.ForEachAsync(
            Enumerable.Range(0, plan.Concurrency),
            new ParallelOptions { MaxDegreeOfParallelism = plan.Concurrency, CancellationToken = cancellationToken },
            async (_, token) =>
            {
                while (clock.Elapsed < until)
                {
                    var agent = agents[Random.Shared.Next(agents.Count)];
                    var (elapsed, ok) = series == PollSeries.Signed
                        ? await SignedPollAsync(agent, Stopwatch.GetTimestamp(), token)
                        : await UnsignedReadAsync(agent, token);
                    lock (ms)
                    {
                        ms.Add(elapsed);
                        failed += ok ? 0 : 1;
                    }
                }
            });
        clock.Stop();
        var burst = new PollBurst(series, ms.Count, failed, clock.Elapsed.TotalSeconds, ms, app.Cpu() - cpu);
        Progress.Line($"agents: {label} {AgentsResult.Name(series)}: {burst.Requests} in {burst.Seconds:F1} s = {burst.Requests / burst.Seconds:F0}/s, {plan.Concurrency} at a time; " +
                      $"median {Stats.Median(ms):F1} ms, p99 {Stats.Percentile(ms, 99):F1} ms; failures {failed}");
        return burst;
    }

    /// <summary>
    /// Open loop: each agent polls every <see cref="AgentsPlan.PollSeconds"/>, the agents' phases spread evenly over the
    /// interval, whatever the answers' latency (a slow answer does not delay the next agent's poll, as with real agents).
    /// </summary>
    private async Task<OpenLoopRun> OpenLoopAsync(CancellationToken cancellationToken)
    {
        var spacing = TimeSpan.FromSeconds((double)plan.PollSeconds / agents.Count);
        var due = (int)(plan.OpenLoopSeconds / spacing.TotalSeconds);
        Progress.Line($"agents: open loop, {agents.Count} agents each polling every {plan.PollSeconds} s ({agents.Count / (double)plan.PollSeconds:F1} polls/s, one every {spacing.TotalMilliseconds:F0} ms) for {plan.OpenLoopSeconds} s");
        var ms = new double[due];
        var ok = new bool[due];
        var polls = new Task[due];
        var lateStart = 0.0;
        var cpu = app.Cpu();
        var start = Stopwatch.GetTimestamp();
        var progress = Stopwatch.StartNew();
        for (var i = 0; i < due; i++)
        {
            var at = start + (long)(i * spacing.TotalSeconds * Stopwatch.Frequency);
            var wait = TimeSpan.FromSeconds((double)(at - Stopwatch.GetTimestamp()) / Stopwatch.Frequency);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            lateStart = Math.Max(lateStart, (double)(Stopwatch.GetTimestamp() - at) * 1000 / Stopwatch.Frequency);
            var index = i;
            polls[i] = Task.Run(
                async () =>
                {
                    (ms[index], ok[index]) = await SignedPollAsync(agents[index % agents.Count], at, cancellationToken);
                },
                cancellationToken);
            if (progress.Elapsed > TimeSpan.FromSeconds(30))
            {
                progress.Restart();
                Progress.Line($"agents: open loop, {i + 1} of {due} polls sent");
            }
        }

        await Task.WhenAll(polls);
        var seconds = (double)(Stopwatch.GetTimestamp() - start) / Stopwatch.Frequency;
        var run = new OpenLoopRun(agents.Count, plan.PollSeconds, seconds, due, ms, ok.Count(o => !o), lateStart, app.Cpu() - cpu);
        Progress.Line($"agents: open loop, {due} polls in {seconds:F0} s: p50 {Stats.Percentile(ms, 50):F1} ms, p90 {Stats.Percentile(ms, 90):F1} ms, p99 {Stats.Percentile(ms, 99):F1} ms, " +
                      $"max {ms.Max():F1} ms; failures {run.Failures}; latest start {lateStart:F1} ms after due");
        return run;
    }

    /// <summary>A signed poll, timed from <paramref name="from"/> (a timestamp) until its answer is read; its status and counts are checked after.</summary>
    private async Task<(double Ms, bool Ok)> SignedPollAsync(SimulatedAgent agent, long from, CancellationToken cancellationToken)
    {
        var path = $"api/v1/providers/{agent.ProviderKey}/provisioning/pending";
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        RequestSigner.CreateHeaders(agent.Key, DateTimeOffset.UtcNow, Guid.NewGuid(), "GET", "/" + path, []).ApplyTo(request.Headers);
        request.Headers.Add(AgentCaller.AgentHeader, agent.Key.PublicKeyHex);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var elapsed = Stopwatch.GetElapsedTime(from).TotalMilliseconds;
            return (elapsed, failures.Signed(response.StatusCode, body));
        }
        catch (Exception ex) when ((ex is HttpRequestException or TaskCanceledException) && !cancellationToken.IsCancellationRequested)
        {
            return (Stopwatch.GetElapsedTime(from).TotalMilliseconds, failures.NoAnswer(ex));
        }
    }

    /// <summary>What <c>ListPendingWork</c> reads for the agent's provider, in the same order, through the same store over the Azure SDK.</summary>
    private async Task<(double Ms, bool Ok)> UnsignedReadAsync(SimulatedAgent agent, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var now = DateTimeOffset.UtcNow;
            var waiting = (await store.ContractsOfProviderAsync(agent.ProviderKey, WaitingStates, cancellationToken)).Where(AgentScope.IsPaid);
            var provision = await Task.WhenAll(waiting.Select(async contract =>
            {
                var lease = await store.LockAsync(contract.PartitionKey, cancellationToken);
                return lease is not null && lease.HeldByAnotherThan(agent.Key.PublicKeyHex, now)
                    ? null
                    : Work.Of(contract, lease, await store.InstanceAsync(contract.PartitionKey, cancellationToken), now);
            }));
            var running = (await store.InstancesOfProviderAsync(agent.ProviderKey, cancellationToken)).Where(i => !i.Terminated);
            var terminate = await Task.WhenAll(running.Select(async indexed =>
            {
                if (await store.ContractAsync(indexed.ContractId, cancellationToken) is not { } contract
                    || await store.InstanceAsync(indexed.ContractId, cancellationToken) is not { } instance
                    || await store.TerminatedAsync(indexed.ContractId, cancellationToken) is not null)
                {
                    return null;
                }

                var ended = contract.CurrentState is ContractState.Cancelled or ContractState.Expired or ContractState.ProvisioningFailed or ContractState.Rejected;
                return !ended && await store.TerminationMarkAsync(indexed.ContractId, cancellationToken) is null
                    ? null
                    : Work.Of(contract, await store.LockAsync(indexed.ContractId, cancellationToken), instance, now);
            }));
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            return (elapsed, failures.Unsigned(provision.Count(w => w is not null), terminate.Count(w => w is not null)));
        }
        catch (RequestFailedException ex)
        {
            return (Stopwatch.GetElapsedTime(started).TotalMilliseconds, failures.NoAnswer(ex));
        }
    }
}

internal sealed record SimulatedAgent(Ed25519phKey Key, string ProviderKey);

/// <summary>Answers that were not a 200 with the provider's pending work (its waiting and ended contracts), with the first few described.</summary>
internal sealed class PollFailures(int waiting, int ended)
{
    private const int Described = 5;
    private readonly List<string> examples = [];

    public void Reset()
    {
        lock (examples)
        {
            examples.Clear();
        }
    }

    public bool Signed(HttpStatusCode status, string body)
    {
        if (status != HttpStatusCode.OK)
        {
            return Note($"poll answered HTTP {(int)status}: {Shorten(body)}");
        }

        var pending = System.Text.Json.JsonSerializer.Deserialize<PendingWork>(body, System.Text.Json.JsonSerializerOptions.Web);
        return pending is not null && pending.Provision.Count == waiting && pending.Terminate.Count == ended
            || Note($"poll answered 200 with other work than the provider's: {Shorten(body)}");
    }

    public bool Unsigned(int provision, int terminate) =>
        (provision == waiting && terminate == ended) || Note($"unsigned read found {provision} to provision and {terminate} to terminate");

    public bool NoAnswer(Exception ex) => Note($"no answer: {ex.GetType().Name}: {ex.Message}");

    public IReadOnlyList<string> Examples()
    {
        lock (examples)
        {
            return [.. examples];
        }
    }

    private bool Note(string example)
    {
        lock (examples)
        {
            if (examples.Count < Described)
            {
                examples.Add(example);
                Progress.Line($"agents: {example}");
            }
        }

        return false;
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
