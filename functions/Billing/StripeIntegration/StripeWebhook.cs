using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using DecentCloud.Functions.Platform;
using DecentCloud.Functions.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Stripe;

namespace DecentCloud.Functions.Billing.StripeIntegration;

/// <summary>
/// <c>POST /api/v1/webhooks/stripe</c>: verifies the <c>Stripe-Signature</c> header over the raw body before anything
/// is stored, checks the body is a Stripe event (strict UTF-8 JSON, the envelope's fields of the types Stripe sends),
/// hands the event to <see cref="StripeEventIntake"/> (the <c>stripe-events</c> queue, a message that never expires)
/// and answers at once; <see cref="ProcessStripeEvent"/> records it (dedupe by event id) and does the work.
/// </summary>
public sealed partial class StripeWebhook(StripeEventIntake intake, IOptions<StripeOptions> options, TimeProvider time, ILogger<StripeWebhook> logger)
{
    public const string QueueName = StripeEventIntake.QueueName;

    [EndpointSummary("Stripe webhook")]
    [EndpointDescription("Called by Stripe. The Stripe-Signature header must verify against STRIPE_WEBHOOK_SECRET within the tolerance, else 400 "
        + "and nothing is stored; so is a body that is not strict UTF-8 JSON or not a Stripe event (its id, type, created, data and the "
        + "envelope's other fields of the types Stripe sends), and 413 one above 900 KB. A valid event is queued (and recorded, deduplicated "
        + "by its id, by the queue function) and answered 200 { received: true } at once, whatever its type; one that cannot be queued is a 500 problem, so Stripe sends it again.")]
    [Function(nameof(StripeWebhook))]
    public async Task<Results<Ok<WebhookReceipt>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/webhooks/stripe")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (await RequestBodies.ReadAtMostAsync(request, StripeEventStore.MaxBodyBytes, cancellationToken) is not { } bytes)
        {
            return Refused(StatusCodes.Status413PayloadTooLarge, "Event too large", $"A Stripe event body is at most {StripeEventStore.MaxBodyBytes} bytes.", "size", "too large");
        }

        // Strict UTF-8, as Stripe.net verifies: the signature is over these exact bytes, which a lossy decoding would change.
        if (!Utf8.IsValid(bytes))
        {
            return Refused(StatusCodes.Status400BadRequest, "Not a Stripe event", "The body is not valid UTF-8.", "body", "not UTF-8");
        }

        var body = Encoding.UTF8.GetString(bytes);
        var now = time.GetUtcNow();
        var signature = request.Headers["Stripe-Signature"].ToString();
        if (signature.Length == 0)
        {
            return Refused(StatusCodes.Status400BadRequest, "Signature not valid", "There is no Stripe-Signature header.", "signature", "no Stripe-Signature header");
        }

        try
        {
            EventUtility.ValidateSignature(body, signature, options.Value.WebhookSecret, options.Value.WebhookToleranceSeconds, now.ToUnixTimeSeconds());
        }
        catch (StripeException ex)
        {
            return Refused(StatusCodes.Status400BadRequest, "Signature not valid", "The Stripe-Signature header does not verify against this endpoint's secret, or its timestamp is outside the tolerance.", "signature", ex.Message);
        }

        if (!StrictJson.TryRead(bytes, out _, out var notJson))
        {
            return Refused(StatusCodes.Status400BadRequest, "Not a Stripe event", notJson, "body", notJson);
        }

        if (StripeEventJson.Read(body, out var notEvent) is not { } head)
        {
            return Refused(StatusCodes.Status400BadRequest, "Not a Stripe event", $"The signed body is not a Stripe event: {notEvent}.", "body", notEvent);
        }

        await intake.QueueAsync(head, body, now, cancellationToken);
        LogReceived(logger, head.Id, head.Type);
        return TypedResults.Ok(new WebhookReceipt(true));
    }

    private ProblemHttpResult Refused(int status, string title, string detail, string check, string reason)
    {
        LogRefused(logger, reason);
        return TypedResults.Problem(statusCode: status, title: title, detail: detail, extensions: new Dictionary<string, object?> { ["check"] = check });
    }

    [LoggerMessage(EventId = 8010, Level = LogLevel.Warning, Message = "Refused a Stripe webhook: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 8011, Level = LogLevel.Information, Message = "Stripe event {EventId} ({Type}) received")]
    private static partial void LogReceived(ILogger logger, string eventId, string type);
}

public sealed record WebhookReceipt(bool Received);

/// <summary>A verified Stripe event whose body Stripe.net's model cannot read; the inner exception says where.</summary>
public sealed class UnreadableStripeEventException(string message, Exception inner) : Exception(message, inner);

internal static class StripeEventJson
{
    private const int MaxTextLength = 255;

    private static readonly JsonValueKind[] Text = [JsonValueKind.String];
    private static readonly JsonValueKind[] TextOrNull = [JsonValueKind.String, JsonValueKind.Null];
    private static readonly JsonValueKind[] Number = [JsonValueKind.Number];
    private static readonly JsonValueKind[] Boolean = [JsonValueKind.True, JsonValueKind.False];
    private static readonly JsonValueKind[] Object = [JsonValueKind.Object];
    private static readonly JsonValueKind[] ObjectOrNull = [JsonValueKind.Object, JsonValueKind.Null];

    private static readonly long MinUnixSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();
    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    /// <summary>The head of a Stripe event, or null when the body is not one.</summary>
    public static StripeEventHead? Head(string body) => Read(body, out _);

    /// <summary>
    /// The event as Stripe.net reads it. A field deeper than the envelope with a type Stripe.net's model cannot hold (an
    /// amount as a string, metadata as a number) makes Stripe.net throw a JsonException, or an InvalidOperationException
    /// where it reads a JSON element as another kind; either is an <see cref="UnreadableStripeEventException"/>, which no
    /// retry can change.
    /// </summary>
    public static Event Parse(string body)
    {
        try
        {
            return EventUtility.ParseEvent(body, throwOnApiVersionMismatch: false);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new UnreadableStripeEventException($"Stripe.net cannot read the event: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// The head of a Stripe event, or null with what makes the body not one: the envelope's fields must have the JSON types
    /// Stripe sends (unknown fields are let through), and what becomes a key or a column must fit one.
    /// </summary>
    public static StripeEventHead? Read(string body, out string problem)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (EnvelopeProblem(root) is { } wrong)
            {
                problem = wrong;
                return null;
            }

            var eventId = root.GetProperty("id").GetString()!;
            var type = root.GetProperty("type").GetString()!;
            var apiVersion = root.TryGetProperty("api_version", out var version) ? version.GetString() : null;
            var objectId = root.GetProperty("data").GetProperty("object").TryGetProperty("id", out var oid) ? oid.GetString() : null;
            var seconds = root.GetProperty("created").TryGetInt64(out var created) ? created : long.MinValue;

            // The id is a table PartitionKey; the others are columns of its row, where Stripe's own values are short.
            problem = string.IsNullOrWhiteSpace(eventId) ? "its id is empty"
                : StorageKeys.Problem(eventId) is { } badId ? $"its id {badId}"
                : type.Length is 0 or > MaxTextLength ? $"its type is {type.Length} characters long"
                : apiVersion?.Length > MaxTextLength || objectId?.Length > MaxTextLength ? $"its api_version or data.object.id is over {MaxTextLength} characters long"
                : seconds < MinUnixSeconds || seconds > MaxUnixSeconds ? "its created is not a time in unix seconds"
                : "";
            return problem.Length > 0 ? null : new StripeEventHead(eventId, type, DateTimeOffset.FromUnixTimeSeconds(seconds), apiVersion, objectId);
        }
        catch (JsonException ex)
        {
            problem = $"it is not JSON ({ex.Message})";
            return null;
        }
    }

    private static string? EnvelopeProblem(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return $"it is a JSON {root.ValueKind}, not an object";
        }

        var problem = Kind(root, "id", Text, required: true) ?? Kind(root, "type", Text, required: true) ?? Kind(root, "created", Number, required: true)
            ?? Kind(root, "data", Object, required: true) ?? Kind(root, "object", Text) ?? Kind(root, "api_version", TextOrNull) ?? Kind(root, "account", TextOrNull)
            ?? Kind(root, "livemode", Boolean) ?? Kind(root, "pending_webhooks", Number) ?? Kind(root, "request", ObjectOrNull);
        if (problem is not null)
        {
            return problem;
        }

        var data = root.GetProperty("data");
        return Kind(data, "object", Object, required: true, "data.") ?? Kind(data, "previous_attributes", ObjectOrNull, required: false, "data.")
            ?? Kind(data.GetProperty("object"), "id", TextOrNull, required: false, "data.object.");
    }

    private static string? Kind(JsonElement parent, string name, JsonValueKind[] kinds, bool required = false, string path = "") =>
        !parent.TryGetProperty(name, out var value) ? (required ? $"it has no {path}{name}" : null)
        : kinds.Contains(value.ValueKind) ? null
        : $"its {path}{name} is a JSON {value.ValueKind.ToString().ToLowerInvariant()}, not {string.Join(" or ", kinds.Select(k => k.ToString().ToLowerInvariant()))}";
}
