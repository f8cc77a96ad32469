using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Hosting.Http;

/// <summary>
/// Checks the key of every function-level and admin-level HTTP function, as the Functions host does:
/// <c>x-functions-key</c> header, else the <c>code</c> query parameter. A refusal is a 401 problem.
/// </summary>
internal sealed partial class FunctionKeyMiddleware(
    RequestDelegate next,
    IOptionsMonitor<FunctionKeysOptions> keys,
    IProblemDetailsService problems,
    ILogger<FunctionKeyMiddleware> logger)
{
    public const string HeaderName = "x-functions-key";
    public const string QueryName = "code";

    public async Task InvokeAsync(HttpContext context)
    {
        var function = context.GetEndpoint()?.Metadata.GetMetadata<HttpFunctionMetadata>();
        if (function is null || function.Level == AuthorizationLevel.Anonymous)
        {
            await next(context);
            return;
        }

        var presented = PresentedKey(context);
        var caller = string.IsNullOrEmpty(presented) ? null : Match(function, presented, keys.CurrentValue);
        if (caller is null)
        {
            LogKeyRefused(logger, function.Name, function.Level, string.IsNullOrEmpty(presented));
            await RefuseAsync(context, problems, function.Level == AuthorizationLevel.Admin
                ? $"{function.Name} needs the master key in the {HeaderName} header or the {QueryName} query parameter."
                : $"{function.Name} needs a function key, a host key or the master key in the {HeaderName} header or the {QueryName} query parameter.");
            return;
        }

        context.Features.Set(caller);
        await next(context);
    }

    /// <summary>The key the caller presented: the <c>x-functions-key</c> header, else the <c>code</c> query parameter.</summary>
    internal static string? PresentedKey(HttpContext context)
    {
        string? presented = context.Request.Headers[HeaderName];
        return string.IsNullOrEmpty(presented) ? context.Request.Query[QueryName] : presented;
    }

    /// <summary>The 401 problem for a missing or refused key.</summary>
    internal static Task RefuseAsync(HttpContext context, IProblemDetailsService problems, string detail)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        return problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = StatusCodes.Status401Unauthorized, Title = "A valid key is required", Detail = detail },
        }).AsTask();
    }

    internal static FunctionCaller? Match(HttpFunctionMetadata function, string presented, FunctionKeysOptions keys)
    {
        var presentedHash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        if (Same(presentedHash, keys.MasterKey))
        {
            return new FunctionCaller("master", AuthorizationLevel.Admin);
        }

        if (function.Level == AuthorizationLevel.Admin)
        {
            return null;
        }

        FunctionCaller? match = null;
        foreach (var (name, key) in keys.HostKeys)
        {
            if (Same(presentedHash, key))
            {
                match ??= new FunctionCaller($"host/{name}", AuthorizationLevel.Function);
            }
        }

        if (keys.FunctionKeys.TryGetValue(function.Name, out var own))
        {
            foreach (var (name, key) in own)
            {
                if (Same(presentedHash, key))
                {
                    match ??= new FunctionCaller($"function/{name}", AuthorizationLevel.Function);
                }
            }
        }

        return match;
    }

    // Hashing both sides first gives equal lengths, so the comparison's time says nothing about the key.
    private static bool Same(byte[] presentedHash, string key) =>
        key.Length > 0 && CryptographicOperations.FixedTimeEquals(presentedHash, SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Refused a call to {Function} ({Level} level): {Reason}")]
    private static partial void LogKeyRefusedCore(ILogger logger, string function, AuthorizationLevel level, string reason);

    private static void LogKeyRefused(ILogger logger, string function, AuthorizationLevel level, bool missing) =>
        LogKeyRefusedCore(logger, function, level, missing ? "no key" : "key not accepted");
}
