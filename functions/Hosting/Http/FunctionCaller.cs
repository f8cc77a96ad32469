namespace DecentCloud.Functions.Hosting.Http;

/// <summary>Who called an HTTP function, as far as its key tells: for logs and the admin audit trail.</summary>
/// <param name="Name">"anonymous", "master", "host/{key name}" or "function/{key name}".</param>
public sealed record FunctionCaller(string Name, AuthorizationLevel Level)
{
    public static readonly FunctionCaller Anonymous = new("anonymous", AuthorizationLevel.Anonymous);

    public static FunctionCaller Of(HttpContext context) =>
        context.Features.Get<FunctionCaller>() ?? Anonymous;

    public override string ToString() => Name;
}
