using DecentCloud.FunctionsHost.Configuration;
using DecentCloud.FunctionsHost.Worker;

namespace DecentCloud.FunctionsHost.Http;

/// <summary>What an HTTP trigger's endpoint carries: its function and authorization level.</summary>
internal sealed record HttpFunctionEndpoint(FunctionDescriptor Function, AuthorizationLevel Level);

/// <summary>
/// Maps every HTTP-triggered function to a route as the Functions host does: <c>/{routePrefix}/{route}</c> (host.json
/// <c>extensions.http.routePrefix</c>, <c>api</c> by default; the function's name when it has no route), with the methods
/// of its trigger (any when it names none). Route templates are ASP.NET Core's, as in Functions.
/// </summary>
internal static partial class HttpFunctions
{
    public const string TriggerType = "httpTrigger";
    public const string RoutePrefixSetting = "AzureFunctionsJobHost:extensions:http:routePrefix";

    public static IReadOnlyList<string> Map(WebApplication app, IEnumerable<FunctionDescriptor> functions, HostSettings settings, FunctionKeys keys, ILogger logger)
    {
        var mapped = new List<string>();
        foreach (var function in functions.Where(f => f.Trigger.Is(TriggerType)))
        {
            if (settings.IsDisabled(function.Name))
            {
                LogDisabled(logger, function.Name);
                continue;
            }

            var level = Level(function);
            if (level != AuthorizationLevel.Anonymous && !keys.HasMasterKey)
            {
                throw new InvalidOperationException($"Function {function.Name} is {level.ToString().ToLowerInvariant()}-level, but the setting {FunctionKeys.MasterKeySetting} is not set (the admin key, at least {FunctionKeys.MinimumKeyLength} characters).");
            }

            var template = Template(function, settings);
            var methods = Methods(function);
            var proxy = app.Services.GetRequiredService<HttpFunctionProxy>();
            var endpoint = methods.Count > 0 ? app.MapMethods(template, methods, proxy.InvokeAsync) : app.Map(template, proxy.InvokeAsync);
            endpoint.WithDisplayName(function.Name).WithMetadata(new HttpFunctionEndpoint(function, level));
            var description = $"{Describe(function, settings)} ({level.ToString().ToLowerInvariant()})";
            mapped.Add(description);
            LogMapped(logger, description);
        }

        return mapped;
    }

    /// <summary>Where an HTTP function answers: <c>/{routePrefix}/{route}</c>.</summary>
    public static string Template(FunctionDescriptor function, HostSettings settings)
    {
        var prefix = (settings.Configuration[RoutePrefixSetting] ?? "api").Trim('/');
        var route = (function.Trigger.Text("route") ?? function.Name).Trim('/');
        return "/" + string.Join('/', new[] { prefix, route }.Where(part => part.Length > 0));
    }

    /// <summary>An HTTP function's methods and route, as a caller reads them ("StartChain: POST /api/chains/{input}").</summary>
    public static string Describe(FunctionDescriptor function, HostSettings settings)
    {
        var methods = Methods(function);
        return $"{function.Name}: {(methods.Count > 0 ? string.Join(',', methods) : "any method")} {Template(function, settings)}";
    }

    /// <summary>The methods the trigger names, upper-cased; none means any.</summary>
    private static List<string> Methods(FunctionDescriptor function) =>
        function.Trigger.Texts("methods")?.Select(m => m.ToUpperInvariant()).ToList() ?? [];

    private static AuthorizationLevel Level(FunctionDescriptor function) => function.Trigger.Text("authLevel")?.ToUpperInvariant() switch
    {
        null or "ANONYMOUS" => AuthorizationLevel.Anonymous,
        "FUNCTION" => AuthorizationLevel.Function,

        // System keys are not kept apart here: the master key opens system-level functions, as it does in Functions.
        "ADMIN" or "SYSTEM" => AuthorizationLevel.Admin,
        var other => throw new InvalidOperationException($"Function {function.Name} has authorization level {other}, which this host does not offer (anonymous, function, admin)."),
    };

    [LoggerMessage(EventId = 1210, Level = LogLevel.Information, Message = "HTTP function {Description}")]
    private static partial void LogMapped(ILogger logger, string description);

    [LoggerMessage(EventId = 1211, Level = LogLevel.Information, Message = "Function {Function} is disabled (AzureWebJobs.{Function}.Disabled)")]
    public static partial void LogDisabled(ILogger logger, string function);
}
