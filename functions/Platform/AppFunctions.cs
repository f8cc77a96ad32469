using System.Collections.Frozen;
using System.Reflection;

namespace DecentCloud.Functions.Platform;

/// <summary>
/// The app's functions as their attributes declare them (the same attributes the Worker SDK writes functions.metadata
/// from): what the worker middleware needs to know of the function it runs (its HTTP route and authorization level, the
/// gate attributes on it) and which queues the app's queue functions listen to.
/// </summary>
public sealed class AppFunctions
{
    private readonly FrozenDictionary<string, AppFunction> byName;

    public AppFunctions(IEnumerable<Assembly> assemblies)
    {
        ArgumentNullException.ThrowIfNull(assemblies);
        byName = assemblies.Distinct().SelectMany(assembly => assembly.GetTypes())
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(method => method.GetCustomAttribute<FunctionAttribute>() is not null)
            .Select(AppFunction.Of)
            .ToFrozenDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The functions of this app (DecentCloud.Functions), and of the worker's entry assembly when that is another that
    /// declares more functions beside them (as the Worker SDK declares the functions of referenced assemblies).
    /// </summary>
    public static AppFunctions OfThisApp { get; } = new(new[] { typeof(AppFunctions).Assembly, Assembly.GetEntryAssembly() }.OfType<Assembly>());

    public IEnumerable<AppFunction> All => byName.Values;

    public AppFunction? Find(string name) => byName.GetValueOrDefault(name);

    /// <summary>Every queue function with the queue it listens to, <c>%SETTING%</c> names resolved.</summary>
    public IReadOnlyList<Operations.QueueBinding> QueueBindings(IConfiguration configuration) =>
        All.Where(f => f.QueueName is not null)
            .Select(f => new Operations.QueueBinding(f.Name, ResolveSetting(f.QueueName!, configuration)))
            .OrderBy(q => q.Function, StringComparer.Ordinal)
            .ToList();

    /// <summary>Resolves a <c>%SETTING%</c> trigger argument as the Functions host does.</summary>
    public static string ResolveSetting(string value, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(configuration);
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
}

/// <summary>One function: its name, the method that runs it, and what its trigger attribute says.</summary>
public sealed record AppFunction(string Name, MethodInfo Method, HttpTriggerAttribute? Http, string? QueueName)
{
    /// <summary>The route's parameter names (<c>{id}</c>, <c>{id?}</c>, <c>{id:int}</c> give <c>id</c>).</summary>
    public IReadOnlyList<string> RouteParameters { get; } = RouteParametersOf(Http?.Route);

    public TAttribute? Attribute<TAttribute>()
        where TAttribute : Attribute =>
        Method.GetCustomAttribute<TAttribute>();

    internal static AppFunction Of(MethodInfo method)
    {
        var name = method.GetCustomAttribute<FunctionAttribute>()!.Name;
        var parameters = method.GetParameters();
        var http = parameters.Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).FirstOrDefault(a => a is not null);
        var queue = parameters.Select(p => p.GetCustomAttribute<QueueTriggerAttribute>()).FirstOrDefault(a => a is not null);
        return new AppFunction(name, method, http, queue?.QueueName);
    }

    private static List<string> RouteParametersOf(string? route)
    {
        var names = new List<string>();
        var at = 0;
        while (route is not null && (at = route.IndexOf('{', at)) >= 0)
        {
            var end = route.IndexOf('}', at);
            if (end < 0)
            {
                break;
            }

            var name = route[(at + 1)..end].TrimStart('*');
            var cut = name.IndexOfAny([':', '?', '=']);
            names.Add(cut < 0 ? name : name[..cut]);
            at = end + 1;
        }

        return names;
    }
}
