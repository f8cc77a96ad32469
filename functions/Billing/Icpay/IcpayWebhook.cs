using System.Text.Json;
using DecentCloud.Functions.Billing.StripeIntegration;
using DecentCloud.Functions.Platform.Http;
using DecentCloud.Functions.Platform.Queues;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Billing.Icpay;

/// <summary>
/// <c>POST /api/v1/webhooks/icpay</c>: verifies <c>X-ICPay-Signature</c> over the raw body before anything is stored,
/// checks the body is an ICPay event, records it once by its id in <c>IcpayEvents</c> and queues its id on
/// <c>icpay-events</c> (a message that never expires); <see cref="ProcessIcpayEvent"/> applies it. A refused delivery
/// stores and queues nothing.
/// </summary>
public sealed partial class IcpayWebhook(IcpayEventStore events, QueueWriter queues, IOptions<IcpayOptions> options, TimeProvider time, ILogger<IcpayWebhook> logger)
{
    [EndpointSummary("ICPay webhook")]
    [EndpointDescription("Called by ICPay. X-ICPay-Signature (t=<unix seconds>,v1=<hex HMAC-SHA256 of \"t.body\">) must verify against ICPAY_WEBHOOK_SECRET "
        + "within the tolerance, else 400 and nothing is stored; so is a body that is not strict UTF-8 JSON or not an ICPay event (id, type, created, "
        + "data.object), and 413 one above 900 KB. 503 while ICPAY_WEBHOOK_SECRET is not set. A valid event is recorded once by its id, queued, and "
        + "answered 200 { received: true }, a redelivery likewise.")]
    [Function(nameof(IcpayWebhook))]
    public async Task<Results<Ok<WebhookReceipt>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/webhooks/icpay")] HttpRequest request, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.Configured)
        {
            LogRefused(logger, "ICPAY_WEBHOOK_SECRET is not set");
            return IcpayProblems.NotConfigured();
        }

        if (await RequestBodies.ReadAtMostAsync(request, IcpayEventStore.MaxBodyBytes, cancellationToken) is not { } bytes)
        {
            return Refused(StatusCodes.Status413PayloadTooLarge, "Event too large", $"An ICPay event body is at most {IcpayEventStore.MaxBodyBytes} bytes.", "size", "too large");
        }

        var header = request.Headers[IcpaySignature.HeaderName].ToString();
        if (header.Length == 0)
        {
            return Refused(StatusCodes.Status400BadRequest, "Signature not valid", $"There is no {IcpaySignature.HeaderName} header.", "signature", "no signature header");
        }

        // Over the bytes as received: ICPay signs those, and any decoding first could change them.
        var now = time.GetUtcNow();
        if (IcpaySignature.Problem(header, bytes, settings.WebhookSecret!, now.ToUnixTimeSeconds(), settings.WebhookToleranceSeconds) is { } bad)
        {
            return Refused(StatusCodes.Status400BadRequest, "Signature not valid", $"The {IcpaySignature.HeaderName} header does not verify: {bad}.", "signature", bad);
        }

        if (!StrictJson.TryRead(bytes, out var body, out var notJson))
        {
            return Refused(StatusCodes.Status400BadRequest, "Not an ICPay event", notJson, "body", notJson);
        }

        if (IcpayEventJson.Head(body, out var notEvent) is not { } head)
        {
            return Refused(StatusCodes.Status400BadRequest, "Not an ICPay event", $"The signed body is not an ICPay event: {notEvent}.", "body", notEvent);
        }

        if (await events.TryRecordAsync(head, body, now, cancellationToken))
        {
            await queues.SendSerializedAsync(IcpayEventMessage.QueueName, BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(new IcpayEventMessage(head.Id), QueueJson.Options)), QueueWriter.Forever, cancellationToken);
            LogReceived(logger, head.Id, head.Type);
        }
        else
        {
            // Recorded by an earlier delivery; if that one never got its message queued, the re-drive timer queues it.
            LogDuplicate(logger, head.Id, head.Type);
        }

        return TypedResults.Ok(new WebhookReceipt(true));
    }

    private ProblemHttpResult Refused(int status, string title, string detail, string check, string reason)
    {
        LogRefused(logger, reason);
        return TypedResults.Problem(statusCode: status, title: title, detail: detail, extensions: new Dictionary<string, object?> { ["check"] = check });
    }

    [LoggerMessage(EventId = 8701, Level = LogLevel.Warning, Message = "Refused an ICPay webhook: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 8702, Level = LogLevel.Information, Message = "ICPay event {EventId} ({Type}) received")]
    private static partial void LogReceived(ILogger logger, string eventId, string type);

    [LoggerMessage(EventId = 8703, Level = LogLevel.Information, Message = "ICPay event {EventId} ({Type}) delivered again; recorded before, not queued again")]
    private static partial void LogDuplicate(ILogger logger, string eventId, string type);
}

internal static class IcpayProblems
{
    public static ProblemHttpResult NotConfigured() =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "ICPay not configured",
            detail: "ICPay payments are not set up on this deployment (ICPAY_WEBHOOK_SECRET is not set).");

    public static ProblemHttpResult CurrencyNotPayable(string contractId, string currency) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "Currency not payable through ICPay",
            detail: $"Contract {contractId} is priced in {currency}; ICPay takes only USD (USDC) and EUR (EURC) contracts.");

    public static ProblemHttpResult BillingNeeded() =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "Billing settings needed",
            detail: "Save your billing settings (PUT /api/v1/accounts/{pubkey}/billing) first: the VAT of an ICPay payment and its invoice depend on the buyer's address and VAT ID.");
}
