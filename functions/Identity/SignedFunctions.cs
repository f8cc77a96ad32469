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
    /// An HTTP function for the parties of a resource and for admins: a request carrying the master key
    /// (<c>x-functions-key</c> or <c>code</c>) runs as the admin without a signature; any other must be validly signed.
    /// A key that is presented and wrong is refused (401), never treated as absent.
    /// </summary>
    public static FunctionCatalog SignedOrAdminHttp<TFunction>(this FunctionCatalog functions, string method, string route, string? name = null)
        where TFunction : class
    {
        ArgumentNullException.ThrowIfNull(functions);
        return functions.Http<TFunction>(method, route, AuthorizationLevel.Anonymous, name, endpoint =>
        {
            endpoint.WithMetadata(SignedRequestMetadata.Instance);
            endpoint.Add(builder =>
            {
                var run = builder.RequestDelegate
                    ?? throw new InvalidOperationException($"{builder.DisplayName} has no request delegate to put the checks in front of.");
                builder.RequestDelegate = context => context.RequestServices.GetRequiredService<AdminKeyOrSignatureGate>().InvokeAsync(context, run);
            });
        });
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
