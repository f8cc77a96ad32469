using DecentCloud.Functions.Platform.Http;
using DecentCloud.Shared.Signing;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Identity;

/// <summary>
/// Runs a signed function only for a request whose signature verifies (shared RequestVerifier, over the request
/// target exactly as received and the raw body) and whose nonce this key has not used before. Every refusal is
/// a 401 problem naming the check that failed; a refused request records nothing. A body longer than
/// <c>SIGNED_BODY_MAX_BYTES</c> is refused 413 before (Content-Length) or while (chunked) it is read, unverified;
/// a verified body that is not strict UTF-8 JSON (<see cref="StrictJson"/>) is refused 400, before its nonce is recorded.
/// </summary>
internal sealed partial class SignedRequestGate(
    RequestVerifier verifier,
    NonceStore nonces,
    IOptions<SignedRequestOptions> options,
    IProblemDetailsService problems,
    ILogger<SignedRequestGate> logger)
{
    public async Task InvokeAsync(HttpContext context, string function, RequestDelegate run)
    {
        var request = context.Request;
        var maxBytes = options.Value.MaxBodyBytes;
        if (await RequestBodies.ReadAtMostAsync(request, maxBytes, context.RequestAborted) is not { } body)
        {
            LogTooLarge(logger, function, request.ContentLength, maxBytes);
            await WriteProblemAsync(
                context,
                StatusCodes.Status413PayloadTooLarge,
                "Request body too large",
                $"A signed request's body is at most {maxBytes} bytes ({SignedRequestOptions.MaxBodyBytesSetting}).",
                "bodySize");
            return;
        }

        // Run's own body binding reads the very bytes that were verified.
        request.Body = new MemoryStream(body, writable: false);

        // RawTarget, not Path and QueryString: those are decoded or re-encoded, and the client signed the bytes it sent.
        var target = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var result = verifier.Verify(request.Method, target, SignatureHeaders.From(name => request.Headers[name]), body);
        if (!result.IsValid)
        {
            LogRefused(logger, function, result.Outcome, result.Header ?? "");
            await RefuseAsync(context, Title(result.Outcome), result.Detail, Check(result.Outcome));
            return;
        }

        // A body the function's own binding might skip in part (an unknown member's bytes are not decoded) is held to
        // the one rule for JSON bodies here, before anything is recorded.
        if (body.Length > 0 && !StrictJson.TryRead(body, out _, out var notJson))
        {
            LogNotJson(logger, function, notJson);
            await WriteProblemAsync(context, StatusCodes.Status400BadRequest, "Request body not valid", notJson, "body");
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

    private Task RefuseAsync(HttpContext context, string title, string detail, string check) =>
        WriteProblemAsync(context, StatusCodes.Status401Unauthorized, title, detail, check);

    private async Task WriteProblemAsync(HttpContext context, int status, string title, string detail, string check)
    {
        context.Response.StatusCode = status;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = status,
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

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Refused a signed call to {Function}: body longer than {MaxBytes} bytes (Content-Length {ContentLength})")]
    private static partial void LogTooLarge(ILogger logger, string function, long? contentLength, int maxBytes);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Refused a signed call to {Function}: {Problem}")]
    private static partial void LogNotJson(ILogger logger, string function, string problem);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Refused a signed call to {Function}: nonce already used by key {PublicKey}")]
    private static partial void LogReplay(ILogger logger, string function, string publicKey);
}
