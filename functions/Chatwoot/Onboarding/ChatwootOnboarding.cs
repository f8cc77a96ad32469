using System.ComponentModel.DataAnnotations;
using DecentCloud.Functions.Chatwoot.Api;
using DecentCloud.Functions.Marketplace.Providers;
using DecentCloud.Functions.Operations.Orchestrations;
using Microsoft.DurableTask;

namespace DecentCloud.Functions.Chatwoot.Onboarding;

/// <summary>Settings of the onboarding orchestration.</summary>
public sealed class ChatwootOnboardingOptions
{
    /// <summary>This app's public address: Chatwoot sends the inbox's events to {PUBLIC_BASE_URL}/api/v1/webhooks/chatwoot.</summary>
    [ConfigurationKeyName("PUBLIC_BASE_URL")]
    public Uri PublicBaseUrl { get; set; } = new("http://127.0.0.1:7071");

    /// <summary>Attempts of one step before the orchestration fails (Chatwoot's 429 and 5xx are retried, 401/404/422 are not).</summary>
    [ConfigurationKeyName("CHATWOOT_ONBOARDING_MAX_ATTEMPTS")]
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The first retry's delay in seconds; each further retry doubles it, up to 10 minutes.</summary>
    [ConfigurationKeyName("CHATWOOT_ONBOARDING_RETRY_SECONDS")]
    [Range(0.1, 600)]
    public double FirstRetrySeconds { get; set; } = 5;
}

/// <summary>
/// What an onboarding starts with: the provider, and its retry policy, fixed when it starts (an orchestrator may not
/// read settings, which could differ between replays).
/// </summary>
public sealed record ChatwootOnboardingInput(string ProviderKey, int MaxAttempts, double FirstRetrySeconds)
{
    public static ChatwootOnboardingInput For(string providerKey, ChatwootOnboardingOptions options) =>
        new(ProviderStore.PartitionKey(providerKey), options.MaxAttempts, options.FirstRetrySeconds);
}

/// <summary>
/// The orchestration's custom status: the steps done and the one running; once it failed, the failed step and the
/// failure (the task hub keeps no more of it than its first line, see <see cref="OrchestrationFailure"/>).
/// </summary>
public sealed record OnboardingProgress(IReadOnlyList<string> Done, string? Running, string? FailedStep = null, OrchestrationFailure? Failure = null);

/// <summary>The orchestration's output: the ids of the provider's Chatwoot resources.</summary>
public sealed record OnboardedResources(long InboxId, long TeamId, long PortalId, long CategoryId, long RoutingRuleId);

/// <summary>
/// The Chatwoot onboarding of one provider (docs/workflows.md): five activities in order, each creating one resource
/// idempotently (<see cref="SupportResourceSetup"/>), each retried with exponential back-off on errors that may pass
/// (Chatwoot's 429 and 5xx, time-outs) and failing the orchestration at once on a refusal. The instance id is
/// <see cref="InstanceId"/>, one per provider.
/// </summary>
public static class ChatwootOnboarding
{
    public const string InstancePrefix = "chatwoot-onboarding-";

    public static readonly IReadOnlyList<string> Steps = ["inbox", "team", "portal", "category", "routing"];

    public static string InstanceId(string providerKey) => InstancePrefix + ProviderStore.PartitionKey(providerKey);

    [Function(nameof(ChatwootOnboarding))]
    public static async Task<OnboardedResources> Run([OrchestrationTrigger] TaskOrchestrationContext context, ChatwootOnboardingInput? input)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (input is null)
        {
            throw new InvalidOperationException($"{context.InstanceId} was started without its input");
        }

        var retry = RetryFor(input);
        var done = new List<string>();
        string? running = null;

        async Task<T> StepAsync<T>(string step, string activity, object activityInput)
        {
            running = step;
            context.SetCustomStatus(new OnboardingProgress(done.ToList(), step));
            var result = await context.CallActivityAsync<T>(activity, activityInput, retry);
            done.Add(step);
            return result;
        }

        try
        {
            var inbox = await StepAsync<long>("inbox", nameof(CreateInbox), input.ProviderKey);
            var team = await StepAsync<long>("team", nameof(CreateTeam), input.ProviderKey);
            var portal = await StepAsync<ChatwootPortal>("portal", nameof(CreatePortal), input.ProviderKey);
            var category = await StepAsync<long>("category", nameof(CreateCategory), new CategoryRequest(input.ProviderKey, portal.Slug));
            var rule = await StepAsync<long>("routing", nameof(CreateRoutingRule), new RoutingRequest(input.ProviderKey, inbox, team));
            context.SetCustomStatus(new OnboardingProgress(done, null));
            return new OnboardedResources(inbox, team, portal.Id, category, rule);
        }
        catch (TaskFailedException failed)
        {
            context.SetCustomStatus(new OnboardingProgress(done, null, running, OrchestrationFailure.Recorded(failed)));
            throw;
        }
    }

    /// <summary>Exponential back-off from the input's first delay, doubling up to 10 minutes; a refusal is not retried.</summary>
    public static TaskOptions RetryFor(ChatwootOnboardingInput input) =>
        TaskOptions.FromRetryPolicy(new RetryPolicy(input.MaxAttempts, TimeSpan.FromSeconds(input.FirstRetrySeconds), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromMinutes(10))
        {
            HandleFailure = failure => !failure.IsCausedBy<OnboardingRefusedException>(),
        });
}

public sealed record CategoryRequest(string ProviderKey, string PortalSlug);

public sealed record RoutingRequest(string ProviderKey, long InboxId, long TeamId);

/// <summary>Activity: the provider's API-channel inbox, found or created; answers its id.</summary>
public sealed class CreateInbox(SupportResourceSetup setup)
{
    [Function(nameof(CreateInbox))]
    public Task<long> Run([ActivityTrigger] string providerKey, CancellationToken cancellationToken) => setup.InboxAsync(providerKey, cancellationToken);
}

/// <summary>Activity: the provider's team, found or created; answers its id.</summary>
public sealed class CreateTeam(SupportResourceSetup setup)
{
    [Function(nameof(CreateTeam))]
    public Task<long> Run([ActivityTrigger] string providerKey, CancellationToken cancellationToken) => setup.TeamAsync(providerKey, cancellationToken);
}

/// <summary>Activity: the provider's Help Center portal, found or created.</summary>
public sealed class CreatePortal(SupportResourceSetup setup)
{
    [Function(nameof(CreatePortal))]
    public Task<ChatwootPortal> Run([ActivityTrigger] string providerKey, CancellationToken cancellationToken) => setup.PortalAsync(providerKey, cancellationToken);
}

/// <summary>Activity: the portal's default category, found or created; answers its id.</summary>
public sealed class CreateCategory(SupportResourceSetup setup)
{
    [Function(nameof(CreateCategory))]
    public Task<long> Run([ActivityTrigger] CategoryRequest request, CancellationToken cancellationToken) =>
        setup.CategoryAsync(request.ProviderKey, request.PortalSlug, cancellationToken);
}

/// <summary>Activity: the automation rule routing the inbox's new conversations to the team, found or created; answers its id.</summary>
public sealed class CreateRoutingRule(SupportResourceSetup setup)
{
    [Function(nameof(CreateRoutingRule))]
    public Task<long> Run([ActivityTrigger] RoutingRequest request, CancellationToken cancellationToken) =>
        setup.RoutingRuleAsync(request.ProviderKey, request.InboxId, request.TeamId, cancellationToken);
}
