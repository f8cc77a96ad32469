using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DecentCloud.Functions.Platform.Http;
using DecentCloud.Functions.Platform.Queues;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Chatwoot.Webhooks;

/// <summary>
/// <c>POST /api/v1/webhooks/chatwoot</c>: verifies a Chatwoot delivery (docs/chatwoot.md, "Deliveries") before anything is stored,
/// puts it on the <c>chatwoot-events</c> queue (a message that never expires) and answers 200 at once;
/// <see cref="ProcessChatwootEvent"/> records it (dedupe by delivery id) and forwards it.
/// </summary>
/// <remarks>
/// The row is written by the queue function, not here, so the webhook does one storage write (the queue put) after
/// its key look-up: Chatwoot does not retry account or API-inbox deliveries, and marks a <c>message_created</c> it
/// could not deliver as failed, so the fewer things that can fail before the 200, the better. Only a body too large
/// for a queue message is recorded here first, and the message then carries only the delivery id.
/// </remarks>
public sealed partial class ChatwootWebhook(
    ChatwootWebhookKeys keys,
    Onboarding.ChatwootSupportStore support,
    ChatwootDeliveries deliveries,
    QueueWriter queues,
    IOptions<ChatwootWebhookOptions> options,
    TimeProvider time,
    ILogger<ChatwootWebhook> logger)
{
    public const string QueueName = "chatwoot-events";
    public const string SignatureHeader = "X-Chatwoot-Signature";
    public const string TimestampHeader = "X-Chatwoot-Timestamp";
    public const string DeliveryHeader = "X-Chatwoot-Delivery";
    public const string TokenParameter = "token";

    private const string SignaturePrefix = "sha256=";

    [EndpointSummary("Chatwoot webhook")]
    [EndpointDescription("Called by Chatwoot. A signed delivery (X-Chatwoot-Signature, 4.12 and later) must verify against CHATWOOT_WEBHOOK_SECRET "
        + "or the recorded secret of the inbox it names, with X-Chatwoot-Timestamp within the tolerance; an unsigned one (older servers) "
        + "needs a known ?token=. Else 401 with the failed check, and nothing is stored. A body that is not strict UTF-8 JSON is 400, so is "
        + "a verified one this app cannot read (an event it reads with fields of other types than Chatwoot sends), and one above 900 KB is "
        + "413; nothing is stored either. A verified delivery is queued (recorded, "
        + "deduplicated by X-Chatwoot-Delivery, by the queue function) and answered 200 { received: true } at once, whatever its event.")]
    [Function(nameof(ChatwootWebhook))]
    public async Task<Results<Ok<ChatwootWebhookReceipt>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/webhooks/chatwoot")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (await RequestBodies.ReadAtMostAsync(request, ChatwootDeliveries.MaxBodyBytes, cancellationToken) is not { } body)
        {
            return Refused(StatusCodes.Status413PayloadTooLarge, "Delivery too large", $"A Chatwoot delivery is at most {ChatwootDeliveries.MaxBodyBytes} bytes.", "size", "too large");
        }

        // Read before verifying: which secret verifies the delivery depends on the inbox the body names.
        if (!StrictJson.TryRead(body, out var text, out var notJson))
        {
            return Refused(StatusCodes.Status400BadRequest, "Not a Chatwoot event", notJson, "body", notJson);
        }

        var head = ChatwootPayloads.Head(body);
        var now = time.GetUtcNow();
        var verification = await VerifyAsync(request, body, head, now, cancellationToken);
        if (verification.Check is { } check)
        {
            return Refused(StatusCodes.Status401Unauthorized, "Delivery not verified", Explain(check), check, verification.Reason);
        }

        if (head is null)
        {
            return Refused(
                StatusCodes.Status400BadRequest,
                "Not a Chatwoot event",
                $"The verified body is not a JSON object with an \"event\" name of at most {ChatwootPayloads.MaxEventLength} characters, or names its inbox (inbox.id, inbox_id, conversation.inbox_id) with something else than an integer.",
                "body",
                "no event name, or an inbox that is not an integer");
        }

        if (ChatwootPayloads.Problem(text) is { } unreadable)
        {
            return Refused(StatusCodes.Status400BadRequest, "Not a Chatwoot event", $"The verified body cannot be read as a Chatwoot {head.Event} event: {unreadable}", "body", unreadable);
        }

        if (DeliveryId(request, verification.VerifiedBy!, body) is not { } deliveryId)
        {
            return Refused(StatusCodes.Status400BadRequest, "No delivery id", $"A signed Chatwoot delivery carries a UUID in {DeliveryHeader}.", "delivery", "no delivery id");
        }

        var message = new ChatwootEventMessage(deliveryId, head.Event, now, verification.VerifiedBy!, verification.ProviderKey, text);

        // Serialized once: its size decides whether the body travels in the message or waits in the delivery's row.
        var serialized = JsonSerializer.SerializeToUtf8Bytes(message, QueueJson.Options);
        if (serialized.Length > QueueWriter.MaxInlineJsonBytes)
        {
            await deliveries.TryRecordAsync(message, text, claimedBy: null, now, cancellationToken);
            serialized = JsonSerializer.SerializeToUtf8Bytes(message with { Body = null }, QueueJson.Options);
        }

        await queues.SendSerializedAsync(QueueName, BinaryData.FromBytes(serialized), QueueWriter.Forever, cancellationToken);
        LogReceived(logger, deliveryId, head.Event, message.VerifiedBy);
        return TypedResults.Ok(new ChatwootWebhookReceipt(true));
    }

    private async Task<Verification> VerifyAsync(HttpRequest request, byte[] body, ChatwootDeliveryHead? head, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var signature = request.Headers[SignatureHeader].ToString();
        if (signature.Length == 0)
        {
            var token = request.Query[TokenParameter].ToString();
            if (token.Length == 0)
            {
                return Verification.Failed("token", "neither a signature nor a token");
            }

            if (await keys.ProviderOfTokenAsync(token, cancellationToken) is not { } tokenProvider)
            {
                return Verification.Failed("token", "the token is not one of ours");
            }

            // An inbox whose signing secret is on record is on a server that signs (4.12 and later): an unsigned delivery
            // naming it had its signature taken off, and the URL token alone must not let it in.
            if (head?.InboxId is { } signingInbox && await keys.FindInboxSecretAsync(signingInbox, cancellationToken) is { } recorded)
            {
                return Verification.Failed("signature", recorded.ProviderKey == tokenProvider
                    ? $"inbox {signingInbox} signs its deliveries; this one is unsigned"
                    : $"the token's provider does not own inbox {signingInbox}");
            }

            // A token speaks only for its provider's own inbox: it must not carry another provider's conversations.
            if (head?.InboxId is not { } tokenInbox || (await support.FindAsync(tokenProvider, cancellationToken))?.InboxId != tokenInbox)
            {
                return Verification.Failed("token", "the token's provider does not own the inbox the delivery names");
            }

            return Verification.By(ChatwootVerifiedBy.UrlToken, tokenProvider);
        }

        if (!long.TryParse(request.Headers[TimestampHeader].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp))
        {
            return Verification.Failed("timestamp", $"signed, but {TimestampHeader} is not unix seconds");
        }

        var skew = now.ToUnixTimeSeconds() - timestamp;
        if (Math.Abs(skew) > options.Value.ToleranceSeconds)
        {
            return Verification.Failed("timestamp", $"signed {skew} s before now, outside ±{options.Value.ToleranceSeconds} s");
        }

        if (!TryReadSignature(signature, out var given))
        {
            return Verification.Failed("signature", $"{SignatureHeader} is not sha256= and 64 hex digits");
        }

        var signed = Signed(timestamp, body);
        if (options.Value.AccountWebhookSecret is { Length: > 0 } accountSecret && Matches(accountSecret, signed, given))
        {
            return Verification.By(ChatwootVerifiedBy.AccountSecret, null);
        }

        if (head?.InboxId is { } inboxId && await keys.FindInboxSecretAsync(inboxId, cancellationToken) is { } inbox && Matches(inbox.Secret, signed, given))
        {
            return Verification.By(ChatwootVerifiedBy.InboxSecret, inbox.ProviderKey);
        }

        return Verification.Failed("signature", head?.InboxId is { } named
            ? $"matches neither the account webhook secret nor a recorded secret of inbox {named}"
            : "matches not the account webhook secret, and the body names no inbox");
    }

    /// <summary>
    /// <c>X-Chatwoot-Delivery</c>, required when signed. Servers before 4.12 may not send it; their deliveries are then
    /// known by the SHA-256 of the body, which holds what changes between events (message id, <c>updated_at</c> with
    /// its fraction of a second), so only a byte-identical body, a true repeat, counts as the same delivery.
    /// </summary>
    private static string? DeliveryId(HttpRequest request, string verifiedBy, byte[] body)
    {
        if (Guid.TryParse(request.Headers[DeliveryHeader].ToString(), out var delivery))
        {
            return delivery.ToString("D");
        }

        return verifiedBy == ChatwootVerifiedBy.UrlToken ? "sha256-" + Convert.ToHexStringLower(SHA256.HashData(body)) : null;
    }

    /// <summary>The bytes Chatwoot signs: <c>"{timestamp}.{raw body}"</c>.</summary>
    private static byte[] Signed(long timestamp, byte[] body)
    {
        var prefix = Encoding.ASCII.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed, prefix.Length);
        return signed;
    }

    private static bool Matches(string secret, byte[] signed, byte[] given) =>
        CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed), given);

    private static bool TryReadSignature(string header, out byte[] signature)
    {
        signature = [];
        var hex = header.StartsWith(SignaturePrefix, StringComparison.Ordinal) ? header[SignaturePrefix.Length..] : "";
        if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit))
        {
            return false;
        }

        signature = Convert.FromHexString(hex);
        return true;
    }

    private static string Explain(string check) => check switch
    {
        "timestamp" => $"{TimestampHeader} is missing or outside this endpoint's tolerance.",
        "signature" => $"{SignatureHeader} does not verify against the account webhook secret or the secret of the inbox the delivery names.",
        _ => $"An unsigned delivery needs a known {TokenParameter} in the webhook URL.",
    };

    private ProblemHttpResult Refused(int status, string title, string detail, string check, string reason)
    {
        LogRefused(logger, check, reason);
        return TypedResults.Problem(statusCode: status, title: title, detail: detail, extensions: new Dictionary<string, object?> { ["check"] = check });
    }

    private sealed record Verification(string? VerifiedBy, string? ProviderKey, string? Check, string Reason)
    {
        public static Verification By(string verifiedBy, string? providerKey) => new(verifiedBy, providerKey, null, "");

        public static Verification Failed(string check, string reason) => new(null, null, check, reason);
    }

    [LoggerMessage(EventId = 9200, Level = LogLevel.Warning, Message = "Refused a Chatwoot delivery ({Check}): {Reason}")]
    private static partial void LogRefused(ILogger logger, string check, string reason);

    [LoggerMessage(EventId = 9201, Level = LogLevel.Information, Message = "Chatwoot delivery {DeliveryId} ({Event}) received, verified by {VerifiedBy}")]
    private static partial void LogReceived(ILogger logger, string deliveryId, string @event, string verifiedBy);
}

public sealed record ChatwootWebhookReceipt(bool Received);
