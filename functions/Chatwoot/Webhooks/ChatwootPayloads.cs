using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DecentCloud.Functions.Chatwoot.Webhooks;

/// <summary>
/// Reads a verified delivery body into a typed event, from the shapes in docs/chatwoot.md ("Payload shapes"). Extra fields are ignored;
/// times are read whatever their form (Chatwoot mixes ISO-8601 strings, unix seconds and unix seconds with a fraction);
/// a field this app needs that is missing or of the wrong type is a <see cref="JsonException"/>.
/// </summary>
public static class ChatwootPayloads
{
    public const string MessageCreated = "message_created";
    public const string MessageUpdated = "message_updated";
    public const string ConversationCreated = "conversation_created";
    public const string ConversationStatusChanged = "conversation_status_changed";

    /// <summary>Chatwoot's event names are short (<c>conversation_typing_off</c>); the name is a column of the delivery's row.</summary>
    public const int MaxEventLength = 64;

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        Converters = { new ChatwootTimeConverter(), new ChatwootOptionalTimeConverter() },
    };

    /// <summary>The event a body carries: typed for the events this app reads, <see cref="ChatwootOtherEvent"/> for any other.</summary>
    public static ChatwootEvent Parse(string body)
    {
        using var document = JsonDocument.Parse(body);
        var name = EventName(document.RootElement) ?? throw new JsonException("A Chatwoot delivery has a top-level \"event\" string; this body has none.");
        return name switch
        {
            MessageCreated or MessageUpdated => new ChatwootMessageEvent(name, Read<ChatwootMessage>(document, name)),
            ConversationCreated or ConversationStatusChanged => new ChatwootConversationEvent(name, Read<ChatwootConversation>(document, name)),
            _ => new ChatwootOtherEvent(name),
        };
    }

    /// <summary>
    /// Why <see cref="Parse"/> cannot read a body into its event, or null when it can. The webhook asks before it
    /// acknowledges, so a delivery this app cannot read is refused at once instead of failing the queue function until
    /// it lands in the poison queue.
    /// </summary>
    public static string? Problem(string body)
    {
        try
        {
            Parse(body);
            return null;
        }
        catch (JsonException ex)
        {
            return ex.InnerException is JsonException inner ? $"{ex.Message}: {inner.Message}" : ex.Message;
        }
    }

    /// <summary>
    /// The <c>event</c> and the inbox a body names, read without the typed model: enough to pick a secret and route it.
    /// Null when the body has no event name (of at most <see cref="MaxEventLength"/> characters) or names its inbox
    /// with a field of a type Chatwoot never sends.
    /// </summary>
    public static ChatwootDeliveryHead? Head(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!JsonDocument.TryParseValue(ref reader, out var parsed))
            {
                return null;
            }

            using var document = parsed;
            var root = document.RootElement;
            return EventName(root) is { Length: <= MaxEventLength } name && TryInboxId(root, out var inboxId) ? new ChatwootDeliveryHead(name, inboxId) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? EventName(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("event", out var name) && name.ValueKind == JsonValueKind.String && name.GetString() is { Length: > 0 } value
            ? value
            : null;

    /// <summary>
    /// Message events name their inbox as <c>inbox.id</c>, conversation events as <c>inbox_id</c>; typing events carry the
    /// conversation as <c>conversation</c>, whose <c>inbox_id</c> it is. False when one of these is there with another type.
    /// </summary>
    private static bool TryInboxId(JsonElement root, out long? inboxId)
    {
        inboxId = null;
        JsonElement? ofInbox = null;
        JsonElement? ofConversation = null;
        if (!Optional(root, "inbox", JsonValueKind.Object, out var inbox) || !Optional(root, "inbox_id", JsonValueKind.Number, out var direct)
            || !Optional(root, "conversation", JsonValueKind.Object, out var conversation)
            || (inbox is { } inboxObject && !Optional(inboxObject, "id", JsonValueKind.Number, out ofInbox))
            || (conversation is { } conversationObject && !Optional(conversationObject, "inbox_id", JsonValueKind.Number, out ofConversation)))
        {
            return false;
        }

        if ((ofInbox ?? direct ?? ofConversation) is not { } named)
        {
            return true;
        }

        if (!named.TryGetInt64(out var id))
        {
            return false;
        }

        inboxId = id;
        return true;
    }

    /// <summary>A member that may be missing or null; false when it is there with a kind other than <paramref name="kind"/>.</summary>
    private static bool Optional(JsonElement parent, string name, JsonValueKind kind, out JsonElement? value)
    {
        value = null;
        if (!parent.TryGetProperty(name, out var member) || member.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        value = member;
        return member.ValueKind == kind;
    }

    private static T Read<T>(JsonDocument document, string name)
        where T : class
    {
        try
        {
            return document.Deserialize<T>(Options) ?? throw new JsonException($"The {name} body is null.");
        }
        catch (JsonException ex)
        {
            throw new JsonException($"reading a Chatwoot {name} delivery as {typeof(T).Name}", ex);
        }
    }
}

public sealed record ChatwootDeliveryHead(string Event, long? InboxId);

/// <summary>A Chatwoot event, by its <c>event</c> name.</summary>
public abstract record ChatwootEvent(string Name);

/// <summary><c>message_created</c> or <c>message_updated</c>.</summary>
public sealed record ChatwootMessageEvent(string Name, ChatwootMessage Message) : ChatwootEvent(Name);

/// <summary><c>conversation_created</c> or <c>conversation_status_changed</c>: the body is the conversation itself.</summary>
public sealed record ChatwootConversationEvent(string Name, ChatwootConversation Conversation) : ChatwootEvent(Name);

/// <summary>An event this app does not read (typing, contacts, <c>conversation_updated</c>, …): recorded and acknowledged.</summary>
public sealed record ChatwootOtherEvent(string Name) : ChatwootEvent(Name);

/// <summary>A message as message events carry it (docs/chatwoot.md, "Payload shapes"), not as the REST API answers it.</summary>
public sealed record ChatwootMessage
{
    /// <summary>The message id.</summary>
    public required long Id { get; init; }

    public string? Content { get; init; }

    /// <summary><c>incoming</c>, <c>outgoing</c> or <c>template</c>: a string in webhooks, unlike the REST API's integer.</summary>
    [JsonConverter(typeof(ChatwootMessageTypeConverter))]
    public required string MessageType { get; init; }

    public string? ContentType { get; init; }

    /// <summary>A private note: agents only, never shown to the contact. Chatwoot sends them.</summary>
    public required bool Private { get; init; }

    public string? SourceId { get; init; }

    /// <summary>An ISO-8601 string in message events.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The contact, user or agent bot that wrote it; null when Chatwoot sends none.</summary>
    public ChatwootActor? Sender { get; init; }

    public required ChatwootInbox Inbox { get; init; }

    public required ChatwootAccount Account { get; init; }

    public required ChatwootConversation Conversation { get; init; }

    /// <summary>Whether a support bot should answer it (docs/chatwoot.md, "Payload shapes"): an incoming public message in a conversation the bot owns.</summary>
    [JsonIgnore]
    public bool ForTheBot => MessageType == "incoming" && !Private && Conversation.Status == "pending";
}

/// <summary>A conversation as webhooks carry it (<c>Conversations::EventDataPresenter#webhook_data</c>).</summary>
public sealed record ChatwootConversation
{
    /// <summary>The display id (<c>#123</c> in the UI), which REST paths take; not the database id.</summary>
    [JsonPropertyName("id")]
    public required long DisplayId { get; init; }

    public required long InboxId { get; init; }

    /// <summary><c>open</c>, <c>pending</c> (a bot owns it), <c>resolved</c> or <c>snoozed</c>.</summary>
    public required string Status { get; init; }

    public ChatwootAccount? Account { get; init; }

    public string? Channel { get; init; }

    public bool? CanReply { get; init; }

    public string? Priority { get; init; }

    public IReadOnlyList<string> Labels { get; init; } = [];

    public ChatwootConversationMeta? Meta { get; init; }

    public ChatwootContactInbox? ContactInbox { get; init; }

    public int? UnreadCount { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }

    public DateTimeOffset? LastActivityAt { get; init; }

    /// <summary>Null when Chatwoot sends 0 (nobody is waiting).</summary>
    public DateTimeOffset? WaitingSince { get; init; }

    public DateTimeOffset? SnoozedUntil { get; init; }

    public DateTimeOffset? FirstReplyCreatedAt { get; init; }
}

public sealed record ChatwootConversationMeta
{
    /// <summary>The contact.</summary>
    public ChatwootActor? Sender { get; init; }

    /// <summary>A user or an agent bot; null when nobody is assigned.</summary>
    public ChatwootActor? Assignee { get; init; }

    /// <summary><c>User</c>, <c>AgentBot</c> or null.</summary>
    public string? AssigneeType { get; init; }

    public ChatwootTeam? Team { get; init; }

    public bool? HmacVerified { get; init; }
}

/// <summary>A contact, a user (agent) or an agent bot.</summary>
public sealed record ChatwootActor
{
    public required long Id { get; init; }

    public string? Name { get; init; }

    /// <summary><c>contact</c>, <c>user</c> or <c>agent_bot</c>. A message's contact sender has no <c>type</c> key: it is a contact.</summary>
    public string Type { get; init; } = "contact";

    public string? Email { get; init; }

    public string? PhoneNumber { get; init; }

    public string? Identifier { get; init; }
}

public sealed record ChatwootInbox
{
    public required long Id { get; init; }

    public string? Name { get; init; }
}

public sealed record ChatwootAccount
{
    public required long Id { get; init; }

    public string? Name { get; init; }
}

public sealed record ChatwootTeam
{
    public required long Id { get; init; }

    public string? Name { get; init; }
}

public sealed record ChatwootContactInbox
{
    public long? Id { get; init; }

    public long? ContactId { get; init; }

    /// <summary>The contact's id in this API inbox: what a reply through the public client API addresses.</summary>
    public string? SourceId { get; init; }
}

/// <summary>
/// Chatwoot's times: ISO-8601 strings (message <c>created_at</c>), unix seconds (conversation <c>created_at</c>,
/// <c>waiting_since</c>), unix seconds with a fraction (<c>updated_at</c>). Written back as ISO-8601.
/// </summary>
internal static class ChatwootTime
{
    public static DateTimeOffset? Read(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.Number:
                return reader.TryGetInt64(out var seconds) ? FromUnix(seconds) : FromUnix(reader.GetDouble());
            case JsonTokenType.String:
                var text = reader.GetString();
                if (string.IsNullOrWhiteSpace(text))
                {
                    return null;
                }

                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var unix))
                {
                    return FromUnix(unix);
                }

                return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                    ? parsed.ToUniversalTime()
                    : throw new JsonException($"'{text}' is not a time.");
            default:
                throw new JsonException($"A time is a string or a number, not {reader.TokenType}.");
        }
    }

    private static readonly long MinSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();
    private static readonly long MaxSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    // Chatwoot writes 0 for a time that was never set (waiting_since).
    private static DateTimeOffset? FromUnix(long seconds) =>
        seconds == 0 ? null
        : seconds >= MinSeconds && seconds <= MaxSeconds ? DateTimeOffset.FromUnixTimeSeconds(seconds)
        : throw new JsonException($"{seconds} is not a time in unix seconds.");

    private static DateTimeOffset? FromUnix(double seconds) =>
        seconds == 0 ? null
        : seconds >= MinSeconds && seconds <= MaxSeconds ? DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(seconds * 1000))
        : throw new JsonException($"{seconds.ToString(CultureInfo.InvariantCulture)} is not a time in unix seconds.");
}

internal sealed class ChatwootTimeConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        ChatwootTime.Read(ref reader) ?? throw new JsonException("A required time is null or 0.");

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}

internal sealed class ChatwootOptionalTimeConverter : JsonConverter<DateTimeOffset?>
{
    public override bool HandleNull => true;

    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ChatwootTime.Read(ref reader);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        if (value is { } time)
        {
            writer.WriteStringValue(time);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}

/// <summary>Webhooks send <c>message_type</c> as a string; the push format's integer (0–3) is read as the same names.</summary>
internal sealed class ChatwootMessageTypeConverter : JsonConverter<string>
{
    private static readonly string[] Names = ["incoming", "outgoing", "activity", "template"];

    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString()!,
        JsonTokenType.Number when reader.TryGetInt32(out var value) && value >= 0 && value < Names.Length => Names[value],
        _ => throw new JsonException($"message_type is a string or 0-3, not {reader.TokenType}."),
    };

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
