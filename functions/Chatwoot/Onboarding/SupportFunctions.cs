using Azure.Storage.Queues.Models;
using DecentCloud.Functions.Platform.Queues;
using DecentCloud.Functions.Identity;
using DecentCloud.Functions.Marketplace.Events;
using DecentCloud.Functions.Marketplace.Providers;
using DecentCloud.Functions.Operations;
using DecentCloud.Functions.Workflows;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Chatwoot.Onboarding;

/// <summary>Queue <c>chatwoot-provider-onboarded</c>: starts the provider's onboarding workflow (once: a redelivery finds it started).</summary>
public sealed class StartChatwootOnboarding(WorkflowRunner workflows)
{
    public const string QueueName = "chatwoot-provider-onboarded";

    [Function(nameof(StartChatwootOnboarding))]
    public Task Run([QueueTrigger(QueueName)] QueueMessage queued, CancellationToken cancellationToken)
    {
        var message = QueueJson.Read<DomainEvent<ProviderOnboarded>>(queued);
        return workflows.StartAsync(
            ChatwootOnboarding.Name,
            ChatwootOnboarding.InstanceId(message.Payload.PublicKey),
            new Dictionary<string, string> { [ChatwootOnboarding.ProviderInput] = ProviderStore.PartitionKey(message.Payload.PublicKey) },
            cancellationToken);
    }
}

/// <summary>A provider's Chatwoot resources and the onboarding workflow's state and history.</summary>
public sealed record ProviderSupportView(string ProviderPublicKey, SupportResourcesView Resources, WorkflowView? Workflow);

/// <summary>Reads a provider's support resources and workflow.</summary>
public sealed class ProviderSupport(ChatwootSupportStore support, WorkflowStore workflows)
{
    /// <param name="withStackTraces">Admins get the whole error; a provider gets its first line (no stack traces or internal addresses).</param>
    public async Task<ProviderSupportView> ViewAsync(string providerKey, CancellationToken cancellationToken, bool withStackTraces = false)
    {
        var resources = (await support.FindAsync(providerKey, cancellationToken))?.ToView() ?? new SupportResourcesView(null, null, null, null, null, null, null, null, null);
        var id = ChatwootOnboarding.InstanceId(providerKey);
        var instance = await workflows.FindAsync(id, cancellationToken);
        WorkflowView? workflow = null;
        if (instance is not null)
        {
            string? Shown(string? error) => withStackTraces || error is null ? error : error.Split('\n', 2)[0].TrimEnd('\r');
            var history = (await workflows.HistoryAsync(id, cancellationToken)).Select(h => h.ToView() with { Error = Shown(h.Error) }).ToList();
            workflow = new WorkflowView(id, instance.Workflow, instance.Status, instance.Step, instance.Attempt, instance.NextRunAt, Shown(instance.LastError),
                instance.CreatedAt, instance.UpdatedAt, history);
        }

        return new ProviderSupportView(ProviderStore.PartitionKey(providerKey), resources, workflow);
    }
}

/// <summary><c>GET /api/v1/providers/{pubkey}/support</c>, signed by the provider.</summary>
public sealed class GetProviderSupport(ProviderStore providers, ProviderSupport support)
{
    [EndpointSummary("Read the provider's support resources")]
    [EndpointDescription("Signed by the provider (403 for any other key). The provider's Chatwoot inbox, team, portal, category and routing rule "
        + "ids, and the onboarding workflow's status, current step, attempt, next run, last error and history. 404 for an unknown provider.")]
    [Function(nameof(GetProviderSupport))]
    [Signed]
    public async Task<Results<Ok<ProviderSupportView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/providers/{pubkey}/support")] HttpRequest request, string pubkey, CancellationToken cancellationToken)
    {
        if (!SignedCaller.Of(request.HttpContext).Is(pubkey.Trim()))
        {
            return SupportProblems.NotYours();
        }

        return await providers.FindAsync(pubkey, cancellationToken) is null
            ? SupportProblems.UnknownProvider(pubkey)
            : TypedResults.Ok(await support.ViewAsync(pubkey, cancellationToken));
    }
}

/// <summary><c>GET /api/v1/admin/providers/{pubkey}/support</c>, admin: what the provider sees, with the workflow's errors.</summary>
public sealed class GetProviderSupportAsAdmin(ProviderStore providers, ProviderSupport support)
{
    [EndpointSummary("Read a provider's support resources (admin)")]
    [EndpointDescription("Admin. The same view as the provider's GET .../support: resource ids, and the workflow with its last error and history. 404 for an unknown provider.")]
    [Function(nameof(GetProviderSupportAsAdmin))]
    public async Task<Results<Ok<ProviderSupportView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Admin, "get", Route = "v1/admin/providers/{pubkey}/support")] HttpRequest request, string pubkey, CancellationToken cancellationToken) =>
        await providers.FindAsync(pubkey, cancellationToken) is null
            ? SupportProblems.UnknownProvider(pubkey)
            : TypedResults.Ok(await support.ViewAsync(pubkey, cancellationToken, withStackTraces: true));
}

/// <summary><c>POST /api/v1/admin/providers/{pubkey}/support/retry</c>, admin: resumes a failed onboarding workflow at its failed step.</summary>
public sealed class RetryProviderSupport(WorkflowRunner workflows, ProviderSupport support, AdminAudit audit)
{
    [EndpointSummary("Resume a provider's failed Chatwoot onboarding")]
    [EndpointDescription("Admin. Resumes the failed step with fresh attempts; 409 if the workflow is not failed, 404 if there is none. Recorded in the admin audit trail.")]
    [Function(nameof(RetryProviderSupport))]
    public async Task<Results<Ok<ProviderSupportView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Admin, "post", Route = "v1/admin/providers/{pubkey}/support/retry")] HttpRequest request, string pubkey, CancellationToken cancellationToken)
    {
        var id = ChatwootOnboarding.InstanceId(pubkey);
        var before = await support.ViewAsync(pubkey, cancellationToken);
        if (before.Workflow is null)
        {
            await audit.RecordAsync(request.HttpContext, "support.retry", id, "not found");
            return SupportProblems.NoWorkflow(pubkey);
        }

        if (!await workflows.ResumeAsync(id, Platform.Http.FunctionCaller.Of(request.HttpContext).Name, cancellationToken))
        {
            await audit.RecordAsync(request.HttpContext, "support.retry", id, $"refused: {before.Workflow.Status}");
            return SupportProblems.NotFailed(before.Workflow.Status);
        }

        await audit.RecordAsync(request.HttpContext, "support.retry", id, "resumed");
        return TypedResults.Ok(await support.ViewAsync(pubkey, cancellationToken, withStackTraces: true));
    }
}

internal static class SupportProblems
{
    public static ProblemHttpResult NotYours() =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Not your provider", detail: "Only the provider itself may do this; sign with the provider's key.");

    public static ProblemHttpResult UnknownProvider(string pubkey) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown provider", detail: $"There is no provider {pubkey}.");

    public static ProblemHttpResult NoWorkflow(string pubkey) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No onboarding workflow", detail: $"Provider {pubkey} has no Chatwoot onboarding workflow.");

    public static ProblemHttpResult NotFailed(string status) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Workflow not failed", detail: $"The onboarding workflow is {status}; only a failed one can be resumed.");

    public static ProblemHttpResult NotReady() =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Support not ready", detail: "The provider's Chatwoot team and inbox do not exist yet; see GET .../support for the onboarding workflow.");

    public static ProblemHttpResult ChatwootFailed(string doing) =>
        TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "Chatwoot failed", detail: $"Chatwoot refused or did not answer while {doing}. Try again in a moment.");
}
