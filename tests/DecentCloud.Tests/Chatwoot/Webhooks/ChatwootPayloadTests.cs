using System.Text.Json;
using DecentCloud.Functions.Chatwoot.Webhooks;
using DecentCloud.Functions.Platform.Queues;

namespace DecentCloud.Tests.Chatwoot.Webhooks;

/// <summary>The three payload shapes of docs/chatwoot.md ("Payload shapes"), from realistic sample deliveries (Fixtures/).</summary>
public sealed class ChatwootPayloadTests
{
    private static ChatwootMessage Message(string fixture) =>
        Assert.IsType<ChatwootMessageEvent>(ChatwootPayloads.Parse(ChatwootSends.Fixture(fixture))).Message;

    private static ChatwootConversationEvent Conversation(string fixture) =>
        Assert.IsType<ChatwootConversationEvent>(ChatwootPayloads.Parse(ChatwootSends.Fixture(fixture)));

    [Fact]
    public void An_incoming_message_from_a_contact_is_read_with_its_string_message_type_iso_time_and_display_id()
    {
        var message = Message("message_created_incoming");

        Assert.Equal((7781L, "Still down. Can a human help?", "incoming", "text", false), (message.Id, message.Content, message.MessageType, message.ContentType, message.Private));
        Assert.Equal(DateTimeOffset.Parse("2026-06-17T10:59:48.123Z", System.Globalization.CultureInfo.InvariantCulture), message.CreatedAt);
        Assert.Equal(new ChatwootActor { Id = 901, Name = "Renter Rita", Type = "contact", Email = "renter@example.org", Identifier = "ed25519:4f2a9c" }, message.Sender);
        Assert.Equal((12L, "Provider 5f2c support"), (message.Inbox.Id, message.Inbox.Name));
        Assert.Equal((3L, "Decent Cloud Support"), (message.Account.Id, message.Account.Name));
        Assert.Equal((42L, 12L, "pending"), (message.Conversation.DisplayId, message.Conversation.InboxId, message.Conversation.Status));
        Assert.Equal("8d1f3c2a-6b7e-4f19-9a0d-2c5e7b1f4a63", message.Conversation.ContactInbox?.SourceId);
        Assert.Equal(("agent_bot", "AgentBot"), (message.Conversation.Meta?.Assignee?.Type, message.Conversation.Meta?.AssigneeType));
        Assert.True(message.ForTheBot);
    }

    [Fact]
    public void A_private_note_by_an_agent_is_read_as_private_with_a_user_sender_and_is_not_for_the_bot()
    {
        var message = Message("message_created_private_note");

        Assert.True(message.Private);
        Assert.Equal("outgoing", message.MessageType);
        Assert.Equal(new ChatwootActor { Id = 17, Name = "Ana Agent", Type = "user", Email = "ana@decentcloud.example" }, message.Sender);
        Assert.Equal(("open", "provider-5f2c"), (message.Conversation.Status, message.Conversation.Meta?.Team?.Name));
        Assert.False(message.ForTheBot);
    }

    [Fact]
    public void A_message_with_no_sender_is_read_with_a_null_sender()
    {
        var message = Message("message_created_sender_null");

        Assert.Null(message.Sender);
        Assert.Equal("template", message.MessageType);
        Assert.Null(message.Conversation.Meta?.Assignee);
        Assert.Null(message.Conversation.Meta?.HmacVerified);
        Assert.Equal(DateTimeOffset.Parse("2026-06-17T15:00:00Z", System.Globalization.CultureInfo.InvariantCulture), message.Conversation.SnoozedUntil);
    }

    [Fact]
    public void A_created_conversation_is_read_from_the_whole_body_with_unix_times_and_its_contact()
    {
        var created = Conversation("conversation_created");
        var conversation = created.Conversation;

        Assert.Equal(ChatwootPayloads.ConversationCreated, created.Name);
        Assert.Equal((42L, 12L, "pending", "Channel::Api"), (conversation.DisplayId, conversation.InboxId, conversation.Status, conversation.Channel));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1781693920), conversation.CreatedAt);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1781693920734), conversation.UpdatedAt);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1781693920), conversation.WaitingSince);
        Assert.Null(conversation.FirstReplyCreatedAt);
        Assert.Empty(conversation.Labels);
        Assert.Equal(new ChatwootActor { Id = 901, Name = "Renter Rita", Type = "contact", Email = "renter@example.org", Identifier = "ed25519:4f2a9c" }, conversation.Meta?.Sender);
        Assert.Null(conversation.Meta?.Assignee);
        Assert.Null(conversation.Meta?.Team);
        Assert.Equal(3L, conversation.Account?.Id);
    }

    [Fact]
    public void A_status_change_is_read_with_the_new_status_assignee_team_labels_and_zero_waiting_since_as_none()
    {
        var changed = Conversation("conversation_status_changed");
        var conversation = changed.Conversation;

        Assert.Equal(ChatwootPayloads.ConversationStatusChanged, changed.Name);
        Assert.Equal(("open", "high"), (conversation.Status, conversation.Priority));
        Assert.Equal(["billing", "vip"], conversation.Labels);
        Assert.Equal(new ChatwootActor { Id = 17, Name = "Ana Agent", Type = "user" }, conversation.Meta?.Assignee);
        Assert.Equal((3L, "provider-5f2c"), (conversation.Meta!.Team!.Id, conversation.Meta.Team.Name));
        Assert.Equal("+41790000000", conversation.Meta.Sender?.PhoneNumber);
        Assert.Null(conversation.WaitingSince);
        Assert.Equal(DateTimeOffset.Parse("2026-06-17T11:02:10Z", System.Globalization.CultureInfo.InvariantCulture), conversation.FirstReplyCreatedAt);
    }

    [Theory]
    [InlineData("conversation_typing_on")]
    public void An_event_this_app_does_not_read_is_other(string fixture) =>
        Assert.Equal(new ChatwootOtherEvent("conversation_typing_on"), ChatwootPayloads.Parse(ChatwootSends.Fixture(fixture)));

    [Fact]
    public void An_event_name_never_seen_is_other()
    {
        Assert.Equal(new ChatwootOtherEvent("inbox_archived"), ChatwootPayloads.Parse("""{"event":"inbox_archived","id":5}"""));
    }

    [Fact]
    public void A_message_missing_its_id_is_refused_with_the_event_named()
    {
        var body = ChatwootSends.FixtureForInbox("message_created_incoming", 12, b => b.Remove("id"));

        var error = Assert.Throws<JsonException>(() => ChatwootPayloads.Parse(body));

        Assert.Contains("message_created", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_message_type_of_the_push_format_is_read_as_its_name()
    {
        var body = ChatwootSends.FixtureForInbox("message_created_incoming", 12, b => b["message_type"] = 1);

        Assert.Equal("outgoing", Assert.IsType<ChatwootMessageEvent>(ChatwootPayloads.Parse(body)).Message.MessageType);
    }

    [Fact]
    public void The_head_names_the_inbox_of_each_shape()
    {
        Assert.Equal(new ChatwootDeliveryHead("message_created", 12), ChatwootPayloads.Head(File.ReadAllBytes(FixturePath("message_created_incoming"))));
        Assert.Equal(new ChatwootDeliveryHead("conversation_created", 12), ChatwootPayloads.Head(File.ReadAllBytes(FixturePath("conversation_created"))));
        Assert.Equal(new ChatwootDeliveryHead("conversation_typing_on", 12), ChatwootPayloads.Head(File.ReadAllBytes(FixturePath("conversation_typing_on"))));
        Assert.Equal(new ChatwootDeliveryHead("contact_created", null), ChatwootPayloads.Head("""{"event":"contact_created","id":901}"""u8));
        Assert.Null(ChatwootPayloads.Head("not json"u8));
        Assert.Null(ChatwootPayloads.Head("""{"id":1}"""u8));
    }

    [Fact]
    public void A_forwarded_message_reads_back_the_same_from_queue_json()
    {
        var forwarded = new ChatwootMessageCreated(new ChatwootDelivery("d", DateTimeOffset.UnixEpoch, ChatwootVerifiedBy.AccountSecret, null), Message("message_created_incoming"));

        var read = JsonSerializer.Deserialize<ChatwootMessageCreated>(JsonSerializer.Serialize(forwarded, QueueJson.Options), QueueJson.Options)!;

        Assert.Equal(forwarded.Message.Conversation.ContactInbox, read.Message.Conversation.ContactInbox);
        Assert.Equal(forwarded.Message.Sender, read.Message.Sender);
        Assert.Equal(forwarded.Message.CreatedAt, read.Message.CreatedAt);
        Assert.Equal(forwarded.Message.Conversation.Labels, read.Message.Conversation.Labels);
        Assert.Equal((42L, "incoming"), (read.Message.Conversation.DisplayId, read.Message.MessageType));
    }

    private static string FixturePath(string name) =>
        Path.Combine(DecentCloud.Testing.RepositoryRoot.Path, "tests", "DecentCloud.Tests", "Chatwoot", "Webhooks", "Fixtures", name + ".json");
}
