using DecentCloud.Functions.Platform.Http;
using System.Security.Cryptography;
using DecentCloud.Functions.Chatwoot.Api;
using DecentCloud.Functions.Identity;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Chatwoot.Onboarding;

/// <summary>The body of <c>POST /api/v1/providers/{pubkey}/support/agents</c>.</summary>
public sealed record SupportAgentRequest(string? Name, string? Email);

/// <summary><c>POST /api/v1/providers/{pubkey}/support/agents</c>, signed by the provider: adds an agent to the provider's team and inbox.</summary>
public sealed partial class AddSupportAgent(ChatwootSupportStore support, ChatwootClient chatwoot, TimeProvider time, ILogger<AddSupportAgent> logger)
{
    [EndpointSummary("Add a support agent")]
    [EndpointDescription("Signed by the provider. Body { name, email }. The agent is the existing Chatwoot user of the account with that email, or a new "
        + "user (platform API) added to the account with the agent role; then a member of the provider's team and inbox. 201 with the agent; "
        + "400 for a bad body, 409 before the onboarding made the team and inbox, 502 when Chatwoot refuses.")]
    [JsonBody(typeof(SupportAgentRequest))]
    [Function(nameof(AddSupportAgent))]
    [Signed]
    public async Task<Results<Created<SupportAgentView>, ValidationProblem, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/providers/{pubkey}/support/agents")] HttpRequest request, string pubkey, CancellationToken cancellationToken)
    {
        var agent = await JsonBodies.ReadAsync<SupportAgentRequest>(request, cancellationToken);
        if (!SignedCaller.Of(request.HttpContext).Is(pubkey.Trim()))
        {
            return SupportProblems.NotYours();
        }

        var name = agent?.Name?.Trim();
        var email = agent?.Email?.Trim().ToLowerInvariant();
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(name) || name.Length > 200)
        {
            errors["name"] = ["A name of 1 to 200 characters is required."];
        }

        if (string.IsNullOrEmpty(email) || !System.Net.Mail.MailAddress.TryCreate(email, out var parsed) || parsed.Address != email)
        {
            errors["email"] = ["A valid email address is required."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Agent not valid");
        }

        if (await support.FindAsync(pubkey, cancellationToken) is not { TeamId: { } teamId, InboxId: { } inboxId })
        {
            return SupportProblems.NotReady();
        }

        try
        {
            var userId = (await chatwoot.ListAgentsAsync(cancellationToken)).FirstOrDefault(a => string.Equals(a.Email, email, StringComparison.OrdinalIgnoreCase))?.Id
                ?? await NewAgentAsync(name!, email!, cancellationToken);
            await chatwoot.AddTeamMembersAsync(teamId, [userId], cancellationToken);
            await chatwoot.AddInboxMembersAsync(inboxId, [userId], cancellationToken);
            var row = new ChatwootAgentEntity
            {
                PartitionKey = Marketplace.Providers.ProviderStore.PartitionKey(pubkey),
                RowKey = ChatwootAgentEntity.RowKeyPrefix + userId,
                UserId = userId,
                Name = name!,
                Email = email!,
                AddedAt = time.GetUtcNow(),
            };
            await support.UpsertAgentAsync(row, cancellationToken);
            return TypedResults.Created($"/api/v1/providers/{row.PartitionKey}/support/agents/{userId}", row.ToView());
        }
        catch (ChatwootException ex)
        {
            LogFailed(logger, ex, pubkey);
            return SupportProblems.ChatwootFailed("adding the agent");
        }
    }

    private async Task<long> NewAgentAsync(string name, string email, CancellationToken cancellationToken)
    {
        // The agent sets their own password through Chatwoot's reset flow; this one is never shown or stored.
        var password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)) + "aA1!";
        var user = await chatwoot.CreatePlatformUserAsync(name, email, password, cancellationToken);
        await chatwoot.AddAccountUserAsync(user.Id, "agent", cancellationToken);
        return user.Id;
    }

    [LoggerMessage(EventId = 9020, Level = LogLevel.Error, Message = "Adding a support agent for provider {PublicKey} failed at Chatwoot")]
    private static partial void LogFailed(ILogger logger, Exception exception, string publicKey);
}

/// <summary><c>GET /api/v1/providers/{pubkey}/support/agents</c>, signed by the provider.</summary>
public sealed class ListSupportAgents(ChatwootSupportStore support)
{
    [EndpointSummary("List support agents")]
    [EndpointDescription("Signed by the provider: the agents the provider added, with their Chatwoot user ids.")]
    [Function(nameof(ListSupportAgents))]
    [Signed]
    public async Task<Results<Ok<List<SupportAgentView>>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/providers/{pubkey}/support/agents")] HttpRequest request, string pubkey, CancellationToken cancellationToken) =>
        SignedCaller.Of(request.HttpContext).Is(pubkey.Trim())
            ? TypedResults.Ok((await support.AgentsAsync(pubkey, cancellationToken)).Select(a => a.ToView()).ToList())
            : SupportProblems.NotYours();
}

/// <summary><c>DELETE /api/v1/providers/{pubkey}/support/agents/{userId}</c>, signed by the provider: removes the agent from the team and inbox.</summary>
public sealed partial class RemoveSupportAgent(ChatwootSupportStore support, ChatwootClient chatwoot, ILogger<RemoveSupportAgent> logger)
{
    [EndpointSummary("Remove a support agent")]
    [EndpointDescription("Signed by the provider. Removes the agent from the provider's team and inbox (the Chatwoot user stays). 204; 404 if it is not one of the provider's agents.")]
    [Function(nameof(RemoveSupportAgent))]
    [Signed]
    public async Task<Results<NoContent, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/providers/{pubkey}/support/agents/{userId}")] HttpRequest request, string pubkey, string userId, CancellationToken cancellationToken)
    {
        if (!long.TryParse(userId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var agentId))
        {
            throw new BadHttpRequestException($"The {{userId}} in the path must be a Chatwoot user id (a whole number); it was \"{userId}\".", StatusCodes.Status400BadRequest);
        }

        if (!SignedCaller.Of(request.HttpContext).Is(pubkey.Trim()))
        {
            return SupportProblems.NotYours();
        }

        if (!(await support.AgentsAsync(pubkey, cancellationToken)).Any(a => a.UserId == agentId))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown agent", detail: $"User {agentId} is not one of this provider's agents.");
        }

        var resources = await support.FindAsync(pubkey, cancellationToken);
        try
        {
            if (resources?.TeamId is { } teamId)
            {
                await chatwoot.RemoveTeamMembersAsync(teamId, [agentId], cancellationToken);
            }

            if (resources?.InboxId is { } inboxId)
            {
                await chatwoot.RemoveInboxMembersAsync(inboxId, [agentId], cancellationToken);
            }
        }
        catch (ChatwootException ex)
        {
            LogFailed(logger, ex, pubkey, agentId);
            return SupportProblems.ChatwootFailed("removing the agent");
        }

        await support.DeleteAgentAsync(pubkey, agentId, cancellationToken);
        return TypedResults.NoContent();
    }

    [LoggerMessage(EventId = 9021, Level = LogLevel.Error, Message = "Removing support agent {UserId} of provider {PublicKey} failed at Chatwoot")]
    private static partial void LogFailed(ILogger logger, Exception exception, string publicKey, long userId);
}
