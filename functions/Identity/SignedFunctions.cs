using DecentCloud.Functions.Hosting;
using DecentCloud.Functions.Hosting.Http;

namespace DecentCloud.Functions.Identity;

/// <summary>Endpoint metadata: this HTTP function runs only for a request signed as docs/signing.md says.</summary>
public sealed class SignedRequestMetadata
{
    public static readonly SignedRequestMetadata Instance = new();

    private SignedRequestMetadata()
    {
    }
}

public static class SignedFunctions
{
    /// <summary>
    /// An HTTP function that runs only for a validly signed request with a nonce not seen before; Run finds the
    /// caller's key with <see cref="SignedCaller.Of"/>. The authorization level still applies on top (anonymous by default).
    /// </summary>
    public static FunctionCatalog SignedHttp<TFunction>(this FunctionCatalog functions, string method, string route, AuthorizationLevel level = AuthorizationLevel.Anonymous, string? name = null)
        where TFunction : class
    {
        ArgumentNullException.ThrowIfNull(functions);
        return functions.Http<TFunction>(method, route, level, name, endpoint => endpoint.RequireSignature());
    }

    /// <summary>
    /// Marks the endpoint and puts the signature check in front of its request delegate. Not an endpoint filter:
    /// filters run after parameter binding, which would read (and could reject) an unverified body before the
    /// check, and would leave no raw bytes to verify.
    /// </summary>
    public static TBuilder RequireSignature<TBuilder>(this TBuilder endpoint)
        where TBuilder : IEndpointConventionBuilder
    {
        endpoint.WithMetadata(SignedRequestMetadata.Instance);
        endpoint.Add(builder =>
        {
            var run = builder.RequestDelegate
                ?? throw new InvalidOperationException($"{builder.DisplayName} has no request delegate to put the signature check in front of.");
            builder.RequestDelegate = context => context.RequestServices.GetRequiredService<SignedRequestGate>().InvokeAsync(context, run);
        });
        return endpoint;
    }
}
