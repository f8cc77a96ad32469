using System.ComponentModel.DataAnnotations;
using DecentCloud.Functions.Chatwoot.Api;
using DecentCloud.Functions.Chatwoot.Webhooks;
using DecentCloud.Functions.Marketplace.Providers;
using DecentCloud.Functions.Workflows;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Chatwoot.Onboarding;

/// <summary>Settings of the onboarding workflow.</summary>
public sealed class ChatwootOnboardingOptions
{
    /// <summary>This app's public address: Chatwoot sends the inbox's events to {PUBLIC_BASE_URL}/api/v1/webhooks/chatwoot.</summary>
    [ConfigurationKeyName("PUBLIC_BASE_URL")]
    public Uri PublicBaseUrl { get; set; } = new("http://127.0.0.1:7071");

    /// <summary>Attempts of one step before the workflow is failed (Chatwoot's 429 and 5xx are retried, 401/404/422 are not).</summary>
    [ConfigurationKeyName("CHATWOOT_ONBOARDING_MAX_ATTEMPTS")]
    [Range(1, 50)]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>The first retry's delay in seconds; each further retry doubles it, up to 10 minutes.</summary>
    [ConfigurationKeyName("CHATWOOT_ONBOARDING_RETRY_SECONDS")]
    [Range(0, 600)]
    public double FirstRetrySeconds { get; set; } = 5;
}

/// <summary>
/// The Chatwoot onboarding workflow of a provider (docs/chatwoot.md, "Rules"): an API-channel inbox
/// "{name} Support", a team "{name} Team", a Help Center portal "{name} Help Center" with a unique slug, a default
/// category, and an automation rule routing the inbox's new conversations to the team. Chatwoot refuses no duplicate
/// inbox or rule, so each step looks up before it creates (the inbox by the provider key in its webhook URL, the rule
/// by name); a taken team name or portal slug (422) is resolved by finding the existing one. Each id is stored with
/// the provider as soon as Chatwoot answers.
/// </summary>
public sealed partial class ChatwootOnboarding(
    ChatwootClient chatwoot,
    ChatwootSupportStore support,
    ChatwootWebhookKeys keys,
    ProviderStore providers,
    IOptions<ChatwootOnboardingOptions> options,
    ILogger<ChatwootOnboarding> logger) : IWorkflowSteps
{
    public const string Name = "chatwoot-onboarding";
    public const string ProviderInput = "provider";
    public const string DefaultCategorySlug = "general";
    public const string DefaultLocale = "en";

    public static readonly IReadOnlyList<string> Steps = ["inbox", "team", "portal", "category", "routing"];

    public WorkflowDefinition Definition { get; } = DefinitionFor(options.Value);

    /// <summary>The workflow with these settings (docs/workflows.md draws it with the defaults).</summary>
    public static WorkflowDefinition DefinitionFor(ChatwootOnboardingOptions settings) =>
        new(Name, Steps, settings.MaxAttempts, TimeSpan.FromSeconds(settings.FirstRetrySeconds), TimeSpan.FromMinutes(10));

    public static string InstanceId(string providerKey) => $"{Name}.{ProviderStore.PartitionKey(providerKey)}";

    public async Task RunAsync(string step, WorkflowStepContext context, CancellationToken cancellationToken)
    {
        var providerKey = context.Inputs[ProviderInput];
        var provider = await providers.FindAsync(providerKey, cancellationToken)
            ?? throw new WorkflowStepException($"provider {providerKey} has no profile", retryable: false);
        try
        {
            switch (step)
            {
                case "inbox":
                    await InboxAsync(provider, cancellationToken);
                    break;
                case "team":
                    await TeamAsync(provider, cancellationToken);
                    break;
                case "portal":
                    await PortalAsync(provider, cancellationToken);
                    break;
                case "category":
                    await CategoryAsync(provider, cancellationToken);
                    break;
                case "routing":
                    await RoutingAsync(provider, cancellationToken);
                    break;
                default:
                    throw new WorkflowStepException($"workflow {Name} has no step {step}", retryable: false);
            }
        }
        catch (ChatwootException ex)
        {
            // 429 (no Retry-After) and 5xx are worth a later attempt; 401/402/404/422 need a person.
            throw new WorkflowStepException($"step {step} for provider {provider.PartitionKey}: {ex.Message}", ex.IsRetryable, ex);
        }
    }

    private async Task InboxAsync(ProviderEntity provider, CancellationToken cancellationToken)
    {
        var name = $"{provider.Name} Support";
        var marker = $"provider={provider.PartitionKey}";
        var inbox = (await chatwoot.ListInboxesAsync(cancellationToken))
            .FirstOrDefault(i => i.ChannelType == "Channel::Api" && i.WebhookUrl?.Contains(marker, StringComparison.Ordinal) == true);
        if (inbox is null)
        {
            // The token is known before the inbox exists, so a crash right after creating leaves no unknown URL behind.
            var token = ChatwootWebhookKeys.NewUrlToken();
            await keys.RecordUrlTokenAsync(token, provider.PartitionKey, cancellationToken);
            var url = new Uri(options.Value.PublicBaseUrl, $"/api/v1/webhooks/chatwoot?{marker}&token={Uri.EscapeDataString(token)}");
            inbox = await chatwoot.CreateApiInboxAsync(name, url, cancellationToken);
            LogCreated(logger, "inbox", inbox.Id, provider.PartitionKey);
        }

        await support.RecordAsync(provider.PartitionKey, row => { row["InboxId"] = inbox.Id; row["InboxName"] = inbox.Name; }, cancellationToken);
        if (inbox.Secret is { Length: > 0 } secret)
        {
            await keys.RecordInboxSecretAsync(inbox.Id, secret, provider.PartitionKey, cancellationToken);
        }
    }

    private async Task TeamAsync(ProviderEntity provider, CancellationToken cancellationToken)
    {
        var team = await TeamNamedAsync(provider, $"{provider.Name} Team", cancellationToken)
            // Team names are unique per account and another provider of the same name holds this one: add the key suffix.
            ?? await TeamNamedAsync(provider, $"{provider.Name} Team {provider.PartitionKey[..8]}", cancellationToken)
            ?? throw new WorkflowStepException($"team names for provider {provider.PartitionKey} are taken by other providers", retryable: false);
        await support.RecordAsync(provider.PartitionKey, row => { row["TeamId"] = team.Id; row["TeamName"] = team.Name; }, cancellationToken);
    }

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
            // Chatwoot stores team names lower-cased.
            team = (await chatwoot.ListTeamsAsync(cancellationToken)).FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))
                ?? throw new WorkflowStepException($"team '{name}' is taken but not listed", retryable: true, ex);
        }

        var owner = await support.OwnerOfTeamAsync(team.Id, cancellationToken);
        return owner is null || owner == provider.PartitionKey ? team : null;
    }

    private async Task PortalAsync(ProviderEntity provider, CancellationToken cancellationToken)
    {
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
                ?? throw new WorkflowStepException($"portal slug {slug} is taken but not listed in this account", retryable: false, ex);
        }

        await support.RecordAsync(provider.PartitionKey, row => { row["PortalId"] = portal.Id; row["PortalSlug"] = portal.Slug; row["PortalName"] = portal.Name; }, cancellationToken);
    }

    private async Task CategoryAsync(ProviderEntity provider, CancellationToken cancellationToken)
    {
        var slug = (await support.FindAsync(provider.PartitionKey, cancellationToken))?.PortalSlug
            ?? throw new WorkflowStepException($"provider {provider.PartitionKey} has no portal recorded", retryable: false);
        var category = (await chatwoot.ListCategoriesAsync(slug, DefaultLocale, cancellationToken)).FirstOrDefault(c => c.Slug == DefaultCategorySlug);
        if (category is null)
        {
            category = await chatwoot.CreateCategoryAsync(slug, "General", DefaultCategorySlug, DefaultLocale, cancellationToken);
            LogCreated(logger, "category", category.Id, provider.PartitionKey);
        }

        await support.RecordAsync(provider.PartitionKey, row => row["CategoryId"] = category.Id, cancellationToken);
    }

    private async Task RoutingAsync(ProviderEntity provider, CancellationToken cancellationToken)
    {
        var resources = await support.FindAsync(provider.PartitionKey, cancellationToken);
        if (resources is not { InboxId: { } inboxId, TeamId: { } teamId })
        {
            throw new WorkflowStepException($"provider {provider.PartitionKey} has no inbox or team recorded", retryable: false);
        }

        var name = $"Route {provider.PartitionKey[..8]} support to its team";
        var rule = (await chatwoot.ListAutomationRulesAsync(cancellationToken)).FirstOrDefault(r => r.Name == name);
        if (rule is null)
        {
            rule = await chatwoot.CreateTeamRoutingRuleAsync(name, inboxId, teamId, cancellationToken);
            LogCreated(logger, "routing rule", rule.Id, provider.PartitionKey);
        }

        await support.RecordAsync(provider.PartitionKey, row => row["RoutingRuleId"] = rule.Id, cancellationToken);
    }

    [LoggerMessage(EventId = 9010, Level = LogLevel.Information, Message = "Chatwoot {Resource} {Id} created for provider {PublicKey}")]
    private static partial void LogCreated(ILogger logger, string resource, long id, string publicKey);
}
