using System.Text;

namespace DecentCloud.Functions.Chatwoot.Api;

/// <summary>An inbox; for an API-channel inbox <see cref="ChannelType"/> is <c>Channel::Api</c>.</summary>
/// <param name="WebhookUrl">Where Chatwoot posts every event of the inbox (API channel only).</param>
/// <param name="Secret">
/// The HMAC key Chatwoot signs those events with (shown to administrators only, so null for other callers and other
/// channels). Secret: left out of <see cref="ToString"/>.
/// </param>
public sealed record ChatwootInbox(long Id, string Name, string ChannelType, string? WebhookUrl, string? Secret)
{
    public const string ApiChannelType = "Channel::Api";

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"Id = {Id}, Name = {Name}, ChannelType = {ChannelType}, WebhookUrl = {WebhookUrl}, Secret = {(Secret is null ? "null" : "***")}");
        return true;
    }
}

/// <summary>A team. Chatwoot stores and answers the name lower-cased ("Acme Team" comes back as "acme team").</summary>
public sealed record ChatwootTeam(long Id, string Name);

/// <summary>A Help Center portal; routes take the <see cref="Slug"/>, not the id.</summary>
public sealed record ChatwootPortal(long Id, string Slug, string Name);

/// <summary>A Help Center category of one portal, in one locale.</summary>
public sealed record ChatwootCategory(long Id, string Slug, string Name, string Locale);

/// <summary>A user of the account as the account APIs show it (an "agent" whatever the role).</summary>
/// <param name="Role"><c>agent</c> or <c>administrator</c>.</param>
public sealed record ChatwootAgent(long Id, string Name, string Email, string Role);

public sealed record ChatwootAutomationRule(long Id, string Name);

/// <summary>A user of the installation, as the Platform API shows it.</summary>
public sealed record ChatwootUser(long Id, string Name, string Email);

/// <summary>The two roles a user can have in an account.</summary>
public static class ChatwootRoles
{
    public const string Agent = "agent";
    public const string Administrator = "administrator";
}
