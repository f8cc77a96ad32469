using System.Collections.Concurrent;

namespace DecentCloud.Tests.Support;

public sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception, IReadOnlyDictionary<string, object?> Scope)
{
    public DateTimeOffset At { get; } = DateTimeOffset.UtcNow;

    /// <summary>The trace id the line was written under (from the logging scope, as the console prints it), if any.</summary>
    public string? TraceId => Scope.TryGetValue("TraceId", out var traceId) ? traceId?.ToString() : null;
}

/// <summary>
/// Keeps every log line an app writes, with the values of its logging scopes (trace id, ...), so tests can check what
/// was logged (and what was not).
/// </summary>
public sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<LogEntry> entries = new();
    private IExternalScopeProvider scopes = new LoggerExternalScopeProvider();

    public IReadOnlyList<LogEntry> Entries => entries.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => scopes = scopeProvider;

    public void Dispose()
    {
    }

    private Dictionary<string, object?> CurrentScope()
    {
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        scopes.ForEachScope(
            (scope, collected) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                {
                    foreach (var (key, value) in pairs)
                    {
                        collected[key] = value;
                    }
                }
            },
            values);
        return values;
    }

    private sealed class Logger(string category, CapturedLogs logs) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => logs.scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            logs.entries.Enqueue(new LogEntry(category, logLevel, eventId, formatter(state, exception), exception, logs.CurrentScope()));
    }
}
