using DecentCloud.Functions.Hosting.Http;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Identity;

/// <summary>
/// In front of a <c>SignedOrAdminHttp</c> function: the master key admits an admin (recorded as the caller, as the key
/// middleware records it); without a key the request must pass the signature gate.
/// </summary>
internal sealed partial class AdminKeyOrSignatureGate(
    SignedRequestGate signatures,
    IOptionsMonitor<FunctionKeysOptions> keys,
    IProblemDetailsService problems,
    ILogger<AdminKeyOrSignatureGate> logger)
{
    public async Task InvokeAsync(HttpContext context, RequestDelegate run)
    {
        var presented = FunctionKeyMiddleware.PresentedKey(context);
        if (string.IsNullOrEmpty(presented))
        {
            await signatures.InvokeAsync(context, run);
            return;
        }

        var function = context.GetEndpoint()?.Metadata.GetMetadata<HttpFunctionMetadata>() ?? new HttpFunctionMetadata("unknown", AuthorizationLevel.Admin);
        if (FunctionKeyMiddleware.Match(function with { Level = AuthorizationLevel.Admin }, presented, keys.CurrentValue) is not { } admin)
        {
            LogKeyRefused(logger, function.Name);
            await FunctionKeyMiddleware.RefuseAsync(context, problems, $"{function.Name} takes the master key, or no key and a signed request; the key given is not the master key.");
            return;
        }

        context.Features.Set(admin);
        await run(context);
    }

    [LoggerMessage(EventId = 6010, Level = LogLevel.Warning, Message = "Refused a call to {Function}: a key was given and it is not the master key")]
    private static partial void LogKeyRefused(ILogger logger, string function);
}
