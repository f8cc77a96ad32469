using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace DecentCloud.Benchmarks;

/// <summary>
/// The local Functions host's log, as the benchmark reads it: the worker's process id (to measure its CPU), the queue
/// function's start and each message it processed (the host logs one once the message is deleted), and every warning
/// or error, printed and counted, so a run that went wrong says so.
/// </summary>
internal sealed class HostLogTap : ILoggerProvider
{
    /// <summary>The host's events read here (see infra/local/FunctionsHost).</summary>
    private const int WorkerStarted = 1201;
    private const int QueueListening = 2101;
    private const int QueueProcessed = 2102;

    private const int Printed = 10;

    private readonly object gate = new();
    private readonly List<string> problems = [];
    private readonly Dictionary<string, ProblemKind> kinds = new(StringComparer.Ordinal);
    private QueueCount? count;
    private int problemCount;
    private int expectedCount;
    private int workerProcessId;

    /// <summary>
    /// Warnings the run provokes on purpose (category and event as the host logs them), counted in <see cref="Expected"/>
    /// rather than as problems.
    /// </summary>
    public Func<string, EventId, bool> IsExpected { get; init; } = (_, _) => false;

    /// <summary>Warnings that <see cref="IsExpected"/> accepted.</summary>
    public int Expected => Volatile.Read(ref expectedCount);

    /// <summary>The worker's process id, once the host has started it; 0 before.</summary>
    public int WorkerProcessId => Volatile.Read(ref workerProcessId);

    /// <summary>Warnings and errors the host and the worker logged.</summary>
    public int Problems => Volatile.Read(ref problemCount);

    /// <summary>The warnings and errors by kind (level, category and event id), each with how often and its first text.</summary>
    public IReadOnlyList<ProblemKind> ProblemKinds
    {
        get
        {
            lock (gate)
            {
                return [.. kinds.Values];
            }
        }
    }

    /// <summary>Provider rules of their own: they win over the levels the host reads from its settings.</summary>
    public static void Filter(ILoggingBuilder logging)
    {
        logging.AddFilter<HostLogTap>(category: null, LogLevel.Warning);
        logging.AddFilter<HostLogTap>("DecentCloud.FunctionsHost.Worker.WorkerProcess", LogLevel.Information);
        logging.AddFilter<HostLogTap>("DecentCloud.FunctionsHost.Queues.QueueListener", LogLevel.Debug);
    }

    /// <summary>Counts the messages <paramref name="function"/> processes from now on; <paramref name="cpu"/> is sampled at its start and at the target.</summary>
    public QueueCount CountQueue(string function, int target, Func<CpuSample> cpu)
    {
        var counting = new QueueCount(function, target, cpu);
        Volatile.Write(ref count, counting);
        return counting;
    }

    public ILogger CreateLogger(string categoryName) => new Tap(this, categoryName);

    public void Dispose()
    {
    }

    private void Write<TState>(string category, LogLevel level, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        switch (eventId.Id)
        {
            case WorkerStarted when Field(state, "ProcessId") is int id:
                Volatile.Write(ref workerProcessId, id);
                break;
            case QueueListening or QueueProcessed when Volatile.Read(ref count) is { } counting && Equals(Field(state, "Function"), counting.Function):
                counting.Note(eventId.Id == QueueListening);
                break;
        }

        if (level < LogLevel.Warning)
        {
            return;
        }

        if (level == LogLevel.Warning && IsExpected(category, eventId))
        {
            Interlocked.Increment(ref expectedCount);
            return;
        }

        Interlocked.Increment(ref problemCount);
        var kind = $"{level} {category}[{eventId.Id}]";
        var text = formatter(state, exception);
        lock (gate)
        {
            kinds[kind] = kinds.TryGetValue(kind, out var known) ? known with { Count = known.Count + 1 } : new ProblemKind(kind, 1, ProblemKind.Shorten(text));
            if (problems.Count < Printed)
            {
                var line = $"{kind}: {text}{(exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})")}";
                problems.Add(line);
                Progress.Line($"host log: {line}");
            }
        }
    }

    private static object? Field<TState>(TState state, string name) =>
        state is IReadOnlyList<KeyValuePair<string, object?>> fields ? fields.FirstOrDefault(field => field.Key == name).Value : null;

    private sealed class Tap(HostLogTap owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Write(category, logLevel, eventId, state, exception, formatter);
    }
}

/// <summary>One queue function's progress as its host logs it: when it started listening, and how many messages it processed since.</summary>
internal sealed class QueueCount(string function, int target, Func<CpuSample> cpu)
{
    private CpuSample? cpuAtStart;
    private CpuSample? cpuAtTarget;

    private readonly TaskCompletionSource reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long listening;
    private long last;
    private int processed;

    public string Function { get; } = function;

    public int Processed => Volatile.Read(ref processed);

    /// <summary>Completes when <c>target</c> messages were processed.</summary>
    public Task Reached => reached.Task;

    /// <summary>From the listener's start (just before its first receive) until the target-th message was deleted.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(Volatile.Read(ref listening), Volatile.Read(ref last));

    /// <summary>Whether the listener has started.</summary>
    public bool Listening => Volatile.Read(ref listening) != 0;

    /// <summary>CPU used between the listener's start and the target.</summary>
    public CpuSample Cpu => Volatile.Read(ref cpuAtTarget)! - Volatile.Read(ref cpuAtStart)!;

    public void Note(bool started)
    {
        var now = Stopwatch.GetTimestamp();
        if (started)
        {
            if (Interlocked.CompareExchange(ref listening, now, 0) == 0)
            {
                Volatile.Write(ref cpuAtStart, cpu());
            }

            return;
        }

        if (Interlocked.Increment(ref processed) == target)
        {
            Volatile.Write(ref last, now);
            Volatile.Write(ref cpuAtTarget, cpu());
            reached.TrySetResult();
        }
    }
}

/// <summary>One kind of warning or error logged during a benchmark (level, category and event id), how often, and its first text.</summary>
internal sealed record ProblemKind(string Kind, int Count, string Example)
{
    public static string Shorten(string text)
    {
        var line = text.Split('\n')[0].Trim();
        return line.Length <= 240 ? line : line[..240] + "…";
    }

    /// <summary>The kinds of several runs added up.</summary>
    public static IReadOnlyList<ProblemKind> Merge(IEnumerable<IReadOnlyList<ProblemKind>> runs) =>
        [.. runs.SelectMany(run => run)
            .GroupBy(kind => kind.Kind, StringComparer.Ordinal)
            .Select(group => new ProblemKind(group.Key, group.Sum(kind => kind.Count), group.First().Example))
            .OrderByDescending(kind => kind.Count)];

    /// <summary>A sentence for the report: none, or a list of the kinds.</summary>
    public static string Markdown(IReadOnlyList<ProblemKind> kinds, string who)
    {
        if (kinds.Count == 0)
        {
            return $"{who} logged no warning or error.";
        }

        var md = new System.Text.StringBuilder($"{who} logged these warnings or errors (level, category [event id], how often, the first one's text):\n\n");
        foreach (var kind in kinds)
        {
            md.AppendLine($"- {kind.Kind}, {kind.Count}×: {kind.Example.Replace("|", "\\|", StringComparison.Ordinal)}");
        }

        return md.ToString().TrimEnd();
    }
}
