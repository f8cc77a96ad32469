
namespace DecentCloud.Functions.Platform.Http;

/// <summary>
/// Who called an HTTP function, as far as its authorization level tells (for logs and the admin audit trail). The
/// Functions host checks the key before the worker sees the request and does not say which key it was; an admin-level
/// function is reached only with the master key, so its caller is <c>master</c>.
/// </summary>
/// <param name="Name"><c>anonymous</c>, <c>function</c> (a function or host key) or <c>master</c>.</param>
public sealed record FunctionCaller(string Name, AuthorizationLevel Level)
{
    public static readonly FunctionCaller Anonymous = new("anonymous", AuthorizationLevel.Anonymous);

    public static readonly FunctionCaller Master = new("master", AuthorizationLevel.Admin);

    public static FunctionCaller Of(HttpContext context) =>
        context.Features.Get<FunctionCaller>() ?? Anonymous;

    public static FunctionCaller For(AuthorizationLevel level) => level switch
    {
        AuthorizationLevel.Admin or AuthorizationLevel.System => Master,
        AuthorizationLevel.Function or AuthorizationLevel.User => new("function", level),
        _ => Anonymous,
    };

    public override string ToString() => Name;
}
