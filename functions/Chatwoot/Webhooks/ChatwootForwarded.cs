namespace DecentCloud.Functions.Chatwoot.Webhooks;

/// <summary>
/// Which delivery a forwarded event came from. Forwarding is at least once (a crash between the forward and the mark
/// forwards again), so a consumer that must act once keys on <see cref="Id"/>.
/// </summary>
/// <param name="Id">The <c>X-Chatwoot-Delivery</c> UUID, or <c>sha256-{hex of the body}</c> for an old server that sends none.</param>
/// <param name="VerifiedBy">One of <see cref="ChatwootVerifiedBy"/>.</param>
/// <param name="ProviderKey">The provider whose inbox secret or URL token verified it; null for the account webhook's secret.</param>
public sealed record ChatwootDelivery(string Id, DateTimeOffset ReceivedAt, string VerifiedBy, string? ProviderKey);

/// <summary>Queue <c>chatwoot-message-created</c>: a new message, incoming or not, private notes included (docs/chatwoot.md, "Payload shapes").</summary>
/// <param name="ContentOmitted">
/// The content (up to 150,000 characters in Chatwoot) did not fit in a queue message and is null here: read the whole
/// delivery from <see cref="ChatwootDeliveries.FindAsync"/> by <see cref="ChatwootDelivery.Id"/> and
/// <see cref="ChatwootPayloads.Parse"/> its body.
/// </param>
public sealed record ChatwootMessageCreated(ChatwootDelivery Delivery, ChatwootMessage Message, bool ContentOmitted = false)
{
    public const string QueueName = "chatwoot-message-created";
}

/// <summary>Queue <c>chatwoot-conversation-created</c>. Not sent to agent bots; <c>pending</c> when a bot is active on the inbox.</summary>
public sealed record ChatwootConversationCreated(ChatwootDelivery Delivery, ChatwootConversation Conversation)
{
    public const string QueueName = "chatwoot-conversation-created";
}

/// <summary>
/// Queue <c>chatwoot-conversation-status-changed</c>: the new status is <see cref="ChatwootConversation.Status"/>.
/// Chatwoot's <c>changed_attributes</c> is normally null here, so the previous status is not known (docs/chatwoot.md, "Payload shapes").
/// </summary>
public sealed record ChatwootConversationStatusChanged(ChatwootDelivery Delivery, ChatwootConversation Conversation)
{
    public const string QueueName = "chatwoot-conversation-status-changed";
}
