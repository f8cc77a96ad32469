using System.Collections.Concurrent;
using System.Reflection;

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
            logs.entries.Enqueue(new LogEntry(category, logLevel, AppEventIds.Resolve(category, eventId), formatter(state, exception), exception, logs.CurrentScope()));
    }
}

/// <summary>
/// The isolated worker sends a log line's event as <c>EventId.ToString()</c>: the name of a <c>[LoggerMessage]</c> method
/// rather than its number. The number comes back from the app's own attributes: the method of that name in the logging
/// category's class (or, when the category is no class of the app, the one method of that name in the app).
/// </summary>
internal static class AppEventIds
{
    private static readonly Lazy<(Dictionary<(string Type, string Method), int> ByType, Dictionary<string, int?> ByName)> Map = new(Build);

    public static EventId Resolve(string category, EventId eventId)
    {
        if (eventId.Id != 0 || string.IsNullOrEmpty(eventId.Name))
        {
            return eventId;
        }

        var (byType, byName) = Map.Value;
        if (byType.TryGetValue((category, eventId.Name), out var id) || (byName.TryGetValue(eventId.Name, out var unique) && unique is { } only && (id = only) != 0))
        {
            return new EventId(id, eventId.Name);
        }

        return eventId;
    }

    private static (Dictionary<(string Type, string Method), int>, Dictionary<string, int?>) Build()
    {
        var byType = new Dictionary<(string Type, string Method), int>();
        var byName = new Dictionary<string, int?>(StringComparer.Ordinal);
        foreach (var type in typeof(Functions.Program).Assembly.GetTypes())
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                if (method.GetCustomAttribute<LoggerMessageAttribute>() is not { } message)
                {
                    continue;
                }

                var name = string.IsNullOrEmpty(message.EventName) ? method.Name : message.EventName;
                byType[(type.FullName ?? type.Name, name)] = message.EventId;
                byName[name] = byName.ContainsKey(name) ? null : message.EventId;
            }
        }

        return (byType, byName);
    }
}
