using Azure.Storage.Queues.Models;
using DecentCloud.Functions.Platform.Queues;
using DecentCloud.Functions.Identity;
using DecentCloud.Functions.Marketplace.Events;
using DecentCloud.Functions.Marketplace.Providers;
using DecentCloud.Functions.Operations;
using DecentCloud.Functions.Operations.Orchestrations;
using DurableTask.Core.Exceptions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Chatwoot.Onboarding;

/// <summary>
/// Queue <c>chatwoot-provider-onboarded</c>: starts the provider's onboarding orchestration under its fixed instance id.
/// A redelivered event finds the instance and starts nothing; only a failed or terminated one is started again.
/// </summary>
public sealed partial class StartChatwootOnboarding(IOptions<ChatwootOnboardingOptions> options, ILogger<StartChatwootOnboarding> logger)
{
    public const string QueueName = "chatwoot-provider-onboarded";

    [Function(nameof(StartChatwootOnboarding))]
    public async Task Run([QueueTrigger(QueueName)] QueueMessage queued, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken)
    {
        var provider = QueueJson.Read<DomainEvent<ProviderOnboarded>>(queued).Payload.PublicKey;
        var id = ChatwootOnboarding.InstanceId(provider);
        if (await client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellationToken) is { } existing
            && existing.RuntimeStatus is not (OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated))
        {
            LogAlreadyStarted(logger, id, existing.RuntimeStatus);
            return;
        }

        try
        {
            // The task hub refuses the id while an instance under it is live: two deliveries racing here start it once.
            var start = new StartOrchestrationOptions(id).WithDedupeStatuses(
                OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Suspended, OrchestrationRuntimeStatus.Completed);
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(ChatwootOnboarding), ChatwootOnboardingInput.For(provider, options.Value), start, cancellationToken);
        }
        catch (OrchestrationAlreadyExistsException)
        {
            LogAlreadyStarted(logger, id, OrchestrationRuntimeStatus.Pending);
        }
    }

    [LoggerMessage(EventId = 9011, Level = LogLevel.Information, Message = "Chatwoot onboarding {InstanceId} is {Status} already; the event starts nothing")]
    private static partial void LogAlreadyStarted(ILogger logger, string instanceId, OrchestrationRuntimeStatus status);
}

/// <summary>A provider's Chatwoot resources and the onboarding orchestration's progress.</summary>
public sealed record ProviderSupportView(string ProviderPublicKey, SupportResourcesView Resources, OnboardingView? Onboarding);

/// <summary>
/// The onboarding as its orchestration reports it: status (Pending, Running, Completed, Failed, Terminated), the steps
/// done, the one running or the one that failed (its custom status), and why it failed. A provider sees the failed
/// step's error message; an admin the whole failure, with the activity's error inside the orchestrator's.
/// </summary>
public sealed record OnboardingView(
    string InstanceId,
    string Status,
    IReadOnlyList<string> StepsDone,
    string? RunningStep,
    string? FailedStep,
    string? Error,
    OrchestrationFailure? Failure,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt);

/// <summary>Reads a provider's support resources and its onboarding orchestration.</summary>
public sealed class ProviderSupport(ChatwootSupportStore support)
{
    /// <param name="asAdmin">Admins get the whole failure; a provider the failed step's error message (no types, stack traces, or inner errors that may name internal addresses).</param>
    public async Task<ProviderSupportView> ViewAsync(string providerKey, DurableTaskClient client, CancellationToken cancellationToken, bool asAdmin = false)
    {
        var resources = (await support.FindAsync(providerKey, cancellationToken))?.ToView() ?? new SupportResourcesView(null, null, null, null, null, null, null, null, null);
        var instance = await client.GetInstanceAsync(ChatwootOnboarding.InstanceId(providerKey), getInputsAndOutputs: true, cancellationToken);
        OnboardingView? onboarding = null;
        if (instance is not null)
        {
            var progress = instance.SerializedCustomStatus is null ? null : instance.ReadCustomStatusAs<OnboardingProgress>();
            var failure = OrchestrationFailure.Of(instance, OrchestrationView.Json(instance.SerializedCustomStatus));
            onboarding = new OnboardingView(
                instance.InstanceId,
                instance.RuntimeStatus.ToString(),
                progress?.Done ?? [],
                instance.IsRunning || instance.RuntimeStatus == OrchestrationRuntimeStatus.Pending ? progress?.Running : null,
                progress?.FailedStep,
                failure?.Cause.Message,
                asAdmin ? failure : null,
                instance.CreatedAt,
                instance.LastUpdatedAt);
        }

        return new ProviderSupportView(ProviderStore.PartitionKey(providerKey), resources, onboarding);
    }
}

/// <summary><c>GET /api/v1/providers/{pubkey}/support</c>, signed by the provider.</summary>
public sealed class GetProviderSupport(ProviderStore providers, ProviderSupport support)
{
    [EndpointSummary("Read the provider's support resources")]
    [EndpointDescription("Signed by the provider (403 for any other key). The provider's Chatwoot inbox, team, portal, category and routing rule "
        + "ids, and the onboarding orchestration's status, the steps done, the one running and the error that failed it. 404 for an unknown provider.")]
    [Function(nameof(GetProviderSupport))]
    [Signed]
    public async Task<Results<Ok<ProviderSupportView>, ProblemHttpResult>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/providers/{pubkey}/support")] HttpRequest request,
        string pubkey,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        if (!SignedCaller.Of(request.HttpContext).Is(pubkey.Trim()))
        {
            return SupportProblems.NotYours();
        }

        return await providers.FindAsync(pubkey, cancellationToken) is null
            ? SupportProblems.UnknownProvider(pubkey)
            : TypedResults.Ok(await support.ViewAsync(pubkey, client, cancellationToken));
    }
}

/// <summary><c>GET /api/v1/admin/providers/{pubkey}/support</c>, admin: what the provider sees, with the whole failure.</summary>
public sealed class GetProviderSupportAsAdmin(ProviderStore providers, ProviderSupport support)
{
    [EndpointSummary("Read a provider's support resources (admin)")]
    [EndpointDescription("Admin. The same view as the provider's GET .../support, with the onboarding's whole failure (the orchestrator's error "
        + "and the activity's inside it, with types and stack traces). 404 for an unknown provider.")]
    [Function(nameof(GetProviderSupportAsAdmin))]
    public async Task<Results<Ok<ProviderSupportView>, ProblemHttpResult>> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "get", Route = "v1/admin/providers/{pubkey}/support")] HttpRequest request,
        string pubkey,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        await providers.FindAsync(pubkey, cancellationToken) is null
            ? SupportProblems.UnknownProvider(pubkey)
            : TypedResults.Ok(await support.ViewAsync(pubkey, client, cancellationToken, asAdmin: true));
}

/// <summary>
/// <c>POST /api/v1/admin/providers/{pubkey}/support/retry</c>, admin: restarts a failed or terminated onboarding under
/// its own id. Its steps find what the earlier run created, so it carries on where that one stopped.
/// </summary>
public sealed class RetryProviderSupport(ProviderSupport support, AdminAudit audit)
{
    [EndpointSummary("Retry a provider's failed Chatwoot onboarding")]
    [EndpointDescription("Admin. Restarts the failed or terminated onboarding orchestration from the beginning with fresh attempts; the steps "
        + "already done find their resources. 409 if it is not failed or terminated, 404 if there is none. Recorded in the admin audit trail.")]
    [Function(nameof(RetryProviderSupport))]
    public async Task<Results<Ok<ProviderSupportView>, ProblemHttpResult>> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "v1/admin/providers/{pubkey}/support/retry")] HttpRequest request,
        string pubkey,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        var id = ChatwootOnboarding.InstanceId(pubkey);
        var instance = await client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellationToken);
        if (instance is null)
        {
            await audit.RecordAsync(request.HttpContext, "support.retry", id, "not found");
            return SupportProblems.NoOnboarding(pubkey);
        }

        if (instance.RuntimeStatus is not (OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated))
        {
            await audit.RecordAsync(request.HttpContext, "support.retry", id, $"refused: {instance.RuntimeStatus}");
            return SupportProblems.NotFailed(instance.RuntimeStatus.ToString());
        }

        await client.RestartAsync(id, restartWithNewInstanceId: false, cancellationToken);
        await audit.RecordAsync(request.HttpContext, "support.retry", id, $"restarted (was {instance.RuntimeStatus})");
        return TypedResults.Ok(await support.ViewAsync(pubkey, client, cancellationToken, asAdmin: true));
    }
}

internal static class SupportProblems
{
    public static ProblemHttpResult NotYours() =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Not your provider", detail: "Only the provider itself may do this; sign with the provider's key.");

    public static ProblemHttpResult UnknownProvider(string pubkey) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown provider", detail: $"There is no provider {pubkey}.");

    public static ProblemHttpResult NoOnboarding(string pubkey) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No onboarding", detail: $"Provider {pubkey} has no Chatwoot onboarding orchestration.");

    public static ProblemHttpResult NotFailed(string status) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Onboarding not failed", detail: $"The onboarding is {status}; only a failed or terminated one can be retried.");

    public static ProblemHttpResult NotReady() =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Support not ready", detail: "The provider's Chatwoot team and inbox do not exist yet; see GET .../support for the onboarding.");

    public static ProblemHttpResult ChatwootFailed(string doing) =>
        TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "Chatwoot failed", detail: $"Chatwoot refused or did not answer while {doing}. Try again in a moment.");
}
