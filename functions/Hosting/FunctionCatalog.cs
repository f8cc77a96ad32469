using Cronos;
using DecentCloud.Functions.Hosting.Http;
using DecentCloud.Functions.Hosting.Queues;
using DecentCloud.Functions.Hosting.Timers;

namespace DecentCloud.Functions.Hosting;

/// <summary>
/// Every function of the app and its trigger, the way a Functions app's metadata lists them.
/// Program.cs fills it; the host maps HTTP functions, starts a queue listener per queue function and a
/// scheduler per timer function from it.
/// </summary>
public sealed class FunctionCatalog
{
    private readonly List<FunctionDescriptor> functions = [];

    public IReadOnlyList<FunctionDescriptor> All => functions;

    public IEnumerable<HttpFunction> HttpFunctions => functions.OfType<HttpFunction>();

    public IEnumerable<QueueFunction> QueueFunctions => functions.OfType<QueueFunction>();

    public IEnumerable<TimerFunction> TimerFunctions => functions.OfType<TimerFunction>();

    /// <summary>An HTTP function: <typeparamref name="TFunction"/>.Run answers <paramref name="method"/> on /api/<paramref name="route"/>.</summary>
    /// <param name="endpoint">
    /// Further conventions for the function's endpoint, applied after the host has bound Run: how a feature
    /// adds its own metadata or a check in front of Run (request signing does).
    /// </param>
    public FunctionCatalog Http<TFunction>(string method, string route, AuthorizationLevel level, string? name = null, Action<IEndpointConventionBuilder>? endpoint = null)
        where TFunction : class
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(method);
        ArgumentNullException.ThrowIfNull(route);
        return Add(new HttpFunction(name ?? typeof(TFunction).Name, typeof(TFunction), method.ToUpperInvariant(), route.Trim('/'), level) { Endpoint = endpoint });
    }

    /// <summary>
    /// A queue function: each message on <paramref name="queueName"/> (a name, or <c>%SETTING%</c> for a
    /// name from settings) is read as JSON <typeparamref name="TMessage"/> and given to Run.
    /// </summary>
    public FunctionCatalog Queue<TFunction, TMessage>(string queueName, string? name = null)
        where TFunction : class, IQueueFunction<TMessage>
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(queueName);
        return Add(new QueueFunction(name ?? typeof(TFunction).Name, typeof(TFunction), queueName, QueueInvoker.For<TFunction, TMessage>()));
    }

    /// <summary>A timer function on a six-field NCRONTAB schedule (or <c>%SETTING%</c>), in UTC.</summary>
    public FunctionCatalog Timer<TFunction>(string schedule, bool runOnStartup = false, bool useMonitor = true, string? name = null)
        where TFunction : class, ITimerFunction
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(schedule);
        return Add(new TimerFunction(name ?? typeof(TFunction).Name, typeof(TFunction), schedule, runOnStartup, useMonitor));
    }

    private FunctionCatalog Add(FunctionDescriptor function)
    {
        if (functions.Any(f => string.Equals(f.Name, function.Name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new InvalidOperationException($"Two functions are named {function.Name}; function names must be unique.");
        }

        functions.Add(function);
        return this;
    }
}

public abstract record FunctionDescriptor(string Name, Type Type)
{
    public abstract string Trigger { get; }
}

public sealed record HttpFunction(string Name, Type Type, string Method, string Route, AuthorizationLevel Level) : FunctionDescriptor(Name, Type)
{
    public Action<IEndpointConventionBuilder>? Endpoint { get; init; }

    public override string Trigger => $"http {Method} /api/{Route} ({Level.ToString().ToLowerInvariant()})";
}

public sealed record QueueFunction(string Name, Type Type, string QueueName, QueueInvoker Invoker) : FunctionDescriptor(Name, Type)
{
    public override string Trigger => $"queue {QueueName}";
}

public sealed record TimerFunction(string Name, Type Type, string Schedule, bool RunOnStartup, bool UseMonitor) : FunctionDescriptor(Name, Type)
{
    public override string Trigger => $"timer {Schedule}{(RunOnStartup ? " (runOnStartup)" : "")}";
}

/// <summary>Resolves <c>%SETTING%</c> references in trigger arguments, as the Functions host does.</summary>
public static class TriggerArguments
{
    public static string Resolve(string value, IConfiguration configuration)
    {
        if (value.Length > 2 && value[0] == '%' && value[^1] == '%')
        {
            var setting = value[1..^1];
            var resolved = configuration[setting];
            return string.IsNullOrWhiteSpace(resolved)
                ? throw new InvalidOperationException($"The trigger argument {value} names the setting {setting}, which is not set.")
                : resolved;
        }

        return value;
    }

    public static CronExpression ParseSchedule(string functionName, string schedule)
    {
        try
        {
            return CronExpression.Parse(schedule, CronFormat.IncludeSeconds);
        }
        catch (CronFormatException ex)
        {
            throw new InvalidOperationException($"Timer function {functionName} has schedule '{schedule}', which is not a six-field NCRONTAB expression (second minute hour day month day-of-week).", ex);
        }
    }
}
