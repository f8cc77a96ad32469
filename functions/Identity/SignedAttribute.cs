namespace DecentCloud.Functions.Identity;

/// <summary>
/// On an HTTP function: it runs only for a validly signed request (docs/signing.md) with a nonce not seen before; the
/// function finds the caller's key with <see cref="SignedCaller.Of"/>. The worker middleware (<see cref="Platform.Http.HttpFunctionMiddleware"/>)
/// checks it before the function runs, in Azure and locally alike. The function's authorization level still applies on top.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class SignedAttribute : Attribute;
