using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Stripe;

namespace DecentCloud.Functions.Billing.StripeIntegration;

/// <summary>
/// <c>POST /api/v1/webhooks/stripe</c>: verifies the <c>Stripe-Signature</c> header over the raw body before anything
/// is stored, hands the event to <see cref="StripeEventIntake"/> (the <c>stripe-events</c> queue, a message that never
/// expires) and answers at once; <see cref="ProcessStripeEvent"/> records it (dedupe by event id) and does the work.
/// </summary>
public sealed partial class StripeWebhook(StripeEventIntake intake, IOptions<StripeOptions> options, TimeProvider time, ILogger<StripeWebhook> logger)
{
    public const string QueueName = StripeEventIntake.QueueName;

    [EndpointSummary("Stripe webhook")]
    [EndpointDescription("Called by Stripe. The Stripe-Signature header must verify against STRIPE_WEBHOOK_SECRET within the tolerance, else 400 "
        + "and nothing is stored. A valid event is queued (and recorded, deduplicated by its id, by the queue function) and answered "
        + "200 { received: true } at once, whatever its type.")]
    public async Task<Results<Ok<WebhookReceipt>, ProblemHttpResult>> Run(HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await ReadBodyAsync(request, cancellationToken);
        if (body is null)
        {
            return Refused("Event too large", $"A Stripe event body is at most {StripeEventStore.MaxBodyBytes} bytes.", "size");
        }

        var now = time.GetUtcNow();
        try
        {
            EventUtility.ValidateSignature(body, request.Headers["Stripe-Signature"], options.Value.WebhookSecret, options.Value.WebhookToleranceSeconds, now.ToUnixTimeSeconds());
        }
        catch (StripeException ex)
        {
            LogRefused(logger, ex.Message);
            return Refused("Signature not valid", "The Stripe-Signature header does not verify against this endpoint's secret, or its timestamp is outside the tolerance.", "signature");
        }

        if (StripeEventJson.Head(body) is not { } head)
        {
            return Refused("Not a Stripe event", "The signed body is not a Stripe event object with an id, a type and a created time.", "body");
        }

        await intake.QueueAsync(head, body, now, cancellationToken);
        LogReceived(logger, head.Id, head.Type);
        return TypedResults.Ok(new WebhookReceipt(true));
    }

    private static async Task<string?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > StripeEventStore.MaxBodyBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > StripeEventStore.MaxBodyBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        // Strict UTF-8, as Stripe.net verifies: the signature is over these exact bytes.
        try
        {
            return new UTF8Encoding(false, true).GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (DecoderFallbackException)
        {
            return "";
        }
    }

    private static ProblemHttpResult Refused(string title, string detail, string check) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: title, detail: detail, extensions: new Dictionary<string, object?> { ["check"] = check });

    [LoggerMessage(EventId = 8010, Level = LogLevel.Warning, Message = "Refused a Stripe webhook: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 8011, Level = LogLevel.Information, Message = "Stripe event {EventId} ({Type}) received")]
    private static partial void LogReceived(ILogger logger, string eventId, string type);
}

public sealed record WebhookReceipt(bool Received);

internal static class StripeEventJson
{
    /// <summary>The head of a Stripe event, or null when the body is not one.</summary>
    public static StripeEventHead? Head(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(id.GetString())
                || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("created", out var created) || !created.TryGetInt64(out var seconds))
            {
                return null;
            }

            var apiVersion = root.TryGetProperty("api_version", out var version) && version.ValueKind == JsonValueKind.String ? version.GetString() : null;
            string? objectId = null;
            if (root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
                && data.TryGetProperty("object", out var obj) && obj.ValueKind == JsonValueKind.Object
                && obj.TryGetProperty("id", out var oid) && oid.ValueKind == JsonValueKind.String)
            {
                objectId = oid.GetString();
            }

            var eventId = id.GetString()!;
            // The id is a table PartitionKey: refuse characters a key cannot hold rather than fail the write.
            return eventId.Length > 255 || eventId.IndexOfAny(['/', '\\', '#', '?']) >= 0 || eventId.Any(char.IsControl)
                ? null
                : new StripeEventHead(eventId, type.GetString()!, DateTimeOffset.FromUnixTimeSeconds(seconds), apiVersion, objectId);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
