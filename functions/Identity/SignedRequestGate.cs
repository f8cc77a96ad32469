using DecentCloud.Functions.Hosting.Http;
using DecentCloud.Shared.Signing;
using Microsoft.AspNetCore.Http.Features;

namespace DecentCloud.Functions.Identity;

/// <summary>
/// Runs a signed function only for a request whose signature verifies (shared RequestVerifier, over the request
/// target exactly as received and the raw body) and whose nonce this key has not used before. Every refusal is
/// a 401 problem naming the check that failed; a refused request records nothing.
/// </summary>
internal sealed partial class SignedRequestGate(
    RequestVerifier verifier,
    NonceStore nonces,
    IProblemDetailsService problems,
    ILogger<SignedRequestGate> logger)
{
    public async Task InvokeAsync(HttpContext context, RequestDelegate run)
    {
        var request = context.Request;
        var body = await ReadBodyAsync(request, context.RequestAborted);

        // RawTarget, not Path and QueryString: those are decoded or re-encoded, and the client signed the bytes it sent.
        var target = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var result = verifier.Verify(request.Method, target, SignatureHeaders.From(name => request.Headers[name]), body);
        var function = context.GetEndpoint()?.Metadata.GetMetadata<HttpFunctionMetadata>()?.Name ?? "unknown";
        if (!result.IsValid)
        {
            LogRefused(logger, function, result.Outcome, result.Header ?? "");
            await RefuseAsync(context, Title(result.Outcome), result.Detail, Check(result.Outcome));
            return;
        }

        // Only now, with the signature good, is the nonce recorded: a forged request must not use up a real client's nonce.
        var signed = result.Request;
        if (!await nonces.TryRecordAsync(signed, context.RequestAborted))
        {
            LogReplay(logger, function, signed.PublicKeyHex);
            await RefuseAsync(
                context,
                "Request already received",
                "This nonce was already used with this key; sign the request again, with a new nonce.",
                "replayedNonce");
            return;
        }

        context.Features.Set(new SignedCaller(signed.PublicKeyHex, signed.Nonce, signed.Timestamp));
        await run(context);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        // Buffered and rewound, so Run's own body binding reads the same bytes that were verified.
        request.EnableBuffering();
        using var copy = new MemoryStream();
        await request.Body.CopyToAsync(copy, cancellationToken);
        request.Body.Position = 0;
        return copy.ToArray();
    }

    private async Task RefuseAsync(HttpContext context, string title, string detail, string check)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = title,
                Detail = detail,
                Extensions = { ["check"] = check },
            },
        });
    }

    private static string Title(VerificationOutcome outcome) => outcome switch
    {
        VerificationOutcome.MissingHeader => "Request signature missing",
        VerificationOutcome.MalformedHeader => "Request signature malformed",
        VerificationOutcome.BadSignature => "Request signature not valid",
        VerificationOutcome.StaleTimestamp => "Request signature too old",
        VerificationOutcome.FutureTimestamp => "Request signature from the future",
        _ => "Request signature refused",
    };

    private static string Check(VerificationOutcome outcome) => outcome switch
    {
        VerificationOutcome.MissingHeader => "missingHeader",
        VerificationOutcome.MalformedHeader => "malformedHeader",
        VerificationOutcome.BadSignature => "badSignature",
        VerificationOutcome.StaleTimestamp => "staleTimestamp",
        VerificationOutcome.FutureTimestamp => "futureTimestamp",
        _ => "signature",
    };

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Refused a signed call to {Function}: {Outcome} {Header}")]
    private static partial void LogRefused(ILogger logger, string function, VerificationOutcome outcome, string header);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Refused a signed call to {Function}: nonce already used by key {PublicKey}")]
    private static partial void LogReplay(ILogger logger, string function, string publicKey);
}
