using DecentCloud.Functions.Chatwoot.Api;
using DecentCloud.Functions.Chatwoot.Webhooks;
using DecentCloud.Functions.Marketplace.Providers;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Chatwoot.Onboarding;

/// <summary>
/// Finds or creates each of a provider's Chatwoot resources (docs/chatwoot.md, "Rules"): an API-channel inbox
/// "{name} Support", a team "{name} Team", a Help Center portal "{name} Help Center" with a unique slug, a default
/// category, and an automation rule routing the inbox's new conversations to the team. Each method is one activity of
/// the <see cref="ChatwootOnboarding"/> orchestration and may run more than once (a retry, or a host that died after
/// Chatwoot answered): an id already in the provider's support row is returned as it is; otherwise Chatwoot is searched
/// before anything is created (Chatwoot refuses no duplicate inbox or rule; a taken team name or portal slug, 422, is
/// resolved by finding the existing one), and the id is stored as soon as Chatwoot answers.
/// </summary>
public sealed partial class SupportResourceSetup(
    ChatwootClient chatwoot,
    ChatwootSupportStore support,
    ChatwootWebhookKeys keys,
    ProviderStore providers,
    IOptions<ChatwootOnboardingOptions> options,
    ILogger<SupportResourceSetup> logger)
{
    public const string DefaultCategorySlug = "general";
    public const string DefaultLocale = "en";

    public Task<long> InboxAsync(string providerKey, CancellationToken cancellationToken) =>
        StepAsync("inbox", providerKey, async (provider, recorded) =>
        {
            if (recorded?.InboxId is { } known)
            {
                return known;
            }

            var marker = $"provider={provider.PartitionKey}";
            var inbox = (await chatwoot.ListInboxesAsync(cancellationToken))
                .FirstOrDefault(i => i.ChannelType == Api.ChatwootInbox.ApiChannelType && i.WebhookUrl?.Contains(marker, StringComparison.Ordinal) == true);
            if (inbox is null)
            {
                // The token is known before the inbox exists, so a crash right after creating leaves no unknown URL behind.
                var token = ChatwootWebhookKeys.NewUrlToken();
                await keys.RecordUrlTokenAsync(token, provider.PartitionKey, cancellationToken);
                var url = new Uri(options.Value.PublicBaseUrl, $"/api/v1/webhooks/chatwoot?{marker}&token={Uri.EscapeDataString(token)}");
                inbox = await chatwoot.CreateApiInboxAsync($"{provider.Name} Support", url, cancellationToken);
                LogCreated(logger, "inbox", inbox.Id, provider.PartitionKey);
            }

            // The secret first: once the id is recorded, a rerun returns early and would never record it.
            if (inbox.Secret is { Length: > 0 } secret)
            {
                await keys.RecordInboxSecretAsync(inbox.Id, secret, provider.PartitionKey, cancellationToken);
            }

            await support.RecordAsync(provider.PartitionKey, row => { row["InboxId"] = inbox.Id; row["InboxName"] = inbox.Name; }, cancellationToken);
            return inbox.Id;
        }, cancellationToken);

    public Task<long> TeamAsync(string providerKey, CancellationToken cancellationToken) =>
        StepAsync("team", providerKey, async (provider, recorded) =>
        {
            if (recorded?.TeamId is { } known)
            {
                return known;
            }

            var team = await TeamNamedAsync(provider, $"{provider.Name} Team", cancellationToken)
                // Team names are unique per account and another provider of the same name holds this one: add the key suffix.
                ?? await TeamNamedAsync(provider, $"{provider.Name} Team {provider.PartitionKey[..8]}", cancellationToken)
                ?? throw new OnboardingRefusedException($"team names for provider {provider.PartitionKey} are taken by other providers");
            await support.RecordAsync(provider.PartitionKey, row => { row["TeamId"] = team.Id; row["TeamName"] = team.Name; }, cancellationToken);
            return team.Id;
        }, cancellationToken);

    /// <summary>The team of that name, created or found; null when it exists and belongs to another provider.</summary>
    private async Task<Api.ChatwootTeam?> TeamNamedAsync(ProviderEntity provider, string name, CancellationToken cancellationToken)
    {
        Api.ChatwootTeam team;
        try
        {
            team = await chatwoot.CreateTeamAsync(name, $"Support team of {provider.Name} on Decent Cloud", cancellationToken);
            LogCreated(logger, "team", team.Id, provider.PartitionKey);
            return team;
        }
        catch (ChatwootException ex) when (ex.IsTaken("name"))
        {
            // Chatwoot stores team names lower-cased. Taken but not listed: Chatwoot is between two states; a retry sees one.
            team = (await chatwoot.ListTeamsAsync(cancellationToken)).FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))
                ?? throw new InvalidOperationException($"team '{name}' is taken but not listed", ex);
        }

        var owner = await support.OwnerOfTeamAsync(team.Id, cancellationToken);
        return owner is null || owner == provider.PartitionKey ? team : null;
    }

    public Task<ChatwootPortal> PortalAsync(string providerKey, CancellationToken cancellationToken) =>
        StepAsync("portal", providerKey, async (provider, recorded) =>
        {
            if (recorded is { PortalId: { } id, PortalSlug: { } knownSlug })
            {
                return new ChatwootPortal(id, knownSlug, recorded.PortalName ?? "");
            }

            var slug = ChatwootSlug.For(provider.Name, provider.PartitionKey);
            ChatwootPortal portal;
            try
            {
                portal = await chatwoot.CreatePortalAsync($"{provider.Name} Help Center", slug, cancellationToken);
                LogCreated(logger, "portal", portal.Id, provider.PartitionKey);
            }
            catch (ChatwootException ex) when (ex.IsTaken("slug"))
            {
                // The slug carries the provider's key, so the portal that holds it is this provider's (an earlier attempt).
                portal = (await chatwoot.ListPortalsAsync(cancellationToken)).FirstOrDefault(p => p.Slug == slug)
                    ?? throw new OnboardingRefusedException($"portal slug {slug} is taken but not listed in this account", ex);
            }

            await support.RecordAsync(provider.PartitionKey, row => { row["PortalId"] = portal.Id; row["PortalSlug"] = portal.Slug; row["PortalName"] = portal.Name; }, cancellationToken);
            return portal;
        }, cancellationToken);

    public Task<long> CategoryAsync(string providerKey, string portalSlug, CancellationToken cancellationToken) =>
        StepAsync("category", providerKey, async (provider, recorded) =>
        {
            if (recorded?.CategoryId is { } known)
            {
                return known;
            }

            var category = (await chatwoot.ListCategoriesAsync(portalSlug, DefaultLocale, cancellationToken)).FirstOrDefault(c => c.Slug == DefaultCategorySlug);
            if (category is null)
            {
                category = await chatwoot.CreateCategoryAsync(portalSlug, "General", DefaultCategorySlug, DefaultLocale, cancellationToken);
                LogCreated(logger, "category", category.Id, provider.PartitionKey);
            }

            await support.RecordAsync(provider.PartitionKey, row => row["CategoryId"] = category.Id, cancellationToken);
            return category.Id;
        }, cancellationToken);

    public Task<long> RoutingRuleAsync(string providerKey, long inboxId, long teamId, CancellationToken cancellationToken) =>
        StepAsync("routing", providerKey, async (provider, recorded) =>
        {
            if (recorded?.RoutingRuleId is { } known)
            {
                return known;
            }

            var name = $"Route {provider.PartitionKey[..8]} support to its team";
            var rule = (await chatwoot.ListAutomationRulesAsync(cancellationToken)).FirstOrDefault(r => r.Name == name);
            if (rule is null)
            {
                rule = await chatwoot.CreateTeamRoutingRuleAsync(name, inboxId, teamId, cancellationToken);
                LogCreated(logger, "routing rule", rule.Id, provider.PartitionKey);
            }

            await support.RecordAsync(provider.PartitionKey, row => row["RoutingRuleId"] = rule.Id, cancellationToken);
            return rule.Id;
        }, cancellationToken);

    /// <summary>
    /// Runs one step with the provider and its support row; a Chatwoot error that trying again cannot cure (401, 402,
    /// 404, 422, an answer that cannot be read) becomes an <see cref="OnboardingRefusedException"/>, which the
    /// orchestration does not retry. Everything else (429, 5xx, time-outs, storage) is left to its retry policy.
    /// </summary>
    private async Task<T> StepAsync<T>(string step, string providerKey, Func<ProviderEntity, ChatwootSupportEntity?, Task<T>> run, CancellationToken cancellationToken)
    {
        var provider = await providers.FindAsync(providerKey, cancellationToken)
            ?? throw new OnboardingRefusedException($"{step}: provider {providerKey} has no profile");
        try
        {
            return await run(provider, await support.FindAsync(provider.PartitionKey, cancellationToken));
        }
        catch (ChatwootException ex) when (!ex.IsRetryable)
        {
            throw new OnboardingRefusedException($"{step} for provider {provider.PartitionKey}: {ex.Message}", ex);
        }
    }

    [LoggerMessage(EventId = 9010, Level = LogLevel.Information, Message = "Chatwoot {Resource} {Id} created for provider {PublicKey}")]
    private static partial void LogCreated(ILogger logger, string resource, long id, string publicKey);
}

/// <summary>
/// An onboarding step that trying again cannot cure: Chatwoot refused it (401 token or role, 402 plan limit, 404, 422),
/// or the provider has no profile. The orchestration's retry policy does not retry it (it reads the failure's type).
/// </summary>
public sealed class OnboardingRefusedException : Exception
{
    public OnboardingRefusedException()
    {
    }

    public OnboardingRefusedException(string message)
        : base(message)
    {
    }

    public OnboardingRefusedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
