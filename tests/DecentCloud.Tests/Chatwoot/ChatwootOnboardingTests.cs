using System.Net;
using System.Net.Http.Json;
using DecentCloud.Functions.Chatwoot.Api;
using DecentCloud.Functions.Chatwoot.Onboarding;
using DecentCloud.Functions.Chatwoot.Webhooks;
using DecentCloud.Functions.Marketplace.Providers;
using DecentCloud.Functions.Workflows;
using DecentCloud.Shared.Signing;
using DecentCloud.Testing;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Chatwoot;

/// <summary>
/// A provider's onboarding, from the provider-onboarded event to its Chatwoot resources, through the real host, its own
/// Azurite and a Chatwoot stand-in that checks every request against Chatwoot's OpenAPI file.
/// </summary>
public sealed class ChatwootOnboardingTests : IAsyncLifetime
{
    private readonly Ed25519phKey provider = Ed25519phKey.Generate();
    private Azurite storage = null!;
    private ChatwootStandIn chatwoot = null!;
    private TestFunctionApp app = null!;

    private string Key => provider.PublicKeyHex;

    private string InstanceId => ChatwootOnboarding.InstanceId(Key);

    public async Task InitializeAsync()
    {
        storage = await Azurite.StartAsync();
        chatwoot = await ChatwootStandIn.StartAsync();
        var settings = new Dictionary<string, string?>(chatwoot.Settings())
        {
            ["PUBLIC_BASE_URL"] = "https://api.decentcloud.example",
            ["CHATWOOT_ONBOARDING_RETRY_SECONDS"] = "1",
            ["CHATWOOT_ONBOARDING_MAX_ATTEMPTS"] = "3",
        };
        app = await TestFunctionApp.StartAsync(storage.ConnectionString, settings: settings);
    }

    public async Task DisposeAsync()
    {
        await app.DisposeAsync();
        await chatwoot.DisposeAsync();
        await storage.DisposeAsync();
    }

    private async Task OnboardAsync(string name = "Acme Cloud")
    {
        using var client = app.SignedBy(provider);
        var response = await client.PostAsJsonAsync("api/v1/providers", new ProviderProfile(name, null, null, "support@acme.example", ["eu-central"], null, null));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private async Task<WorkflowInstanceEntity> EndedAsync(string? status = null)
    {
        WorkflowInstanceEntity? instance = null;
        var store = app.Services.GetRequiredService<WorkflowStore>();
        await Eventually.HoldsAsync(
            async () => (instance = await store.FindAsync(InstanceId, CancellationToken.None))?.Status is { } s && (status is null ? s is WorkflowStatus.Completed or WorkflowStatus.Failed : s == status),
            $"the onboarding workflow is {status ?? "done"}", TimeSpan.FromSeconds(60));
        return instance!;
    }

    private async Task<ProviderSupportView> SupportAsync()
    {
        using var client = app.SignedBy(provider);
        return (await client.GetFromJsonAsync<ProviderSupportView>($"api/v1/providers/{Key}/support"))!;
    }

    private void AssertOneOfEach(string name = "Acme Cloud")
    {
        var marker = $"provider={Key}";
        var inbox = Assert.Single(chatwoot.Inboxes, i => i.WebhookUrl?.Contains(marker, StringComparison.Ordinal) == true);
        Assert.Equal($"{name} Support", inbox.Name);
        Assert.Equal("Channel::Api", inbox.ChannelType);
        Assert.StartsWith("https://api.decentcloud.example/api/v1/webhooks/chatwoot?", inbox.WebhookUrl, StringComparison.Ordinal);
        var team = Assert.Single(chatwoot.Teams, t => string.Equals(t.Name, $"{name} Team", StringComparison.OrdinalIgnoreCase));
        var portal = Assert.Single(chatwoot.Portals, p => p.Slug == ChatwootSlug.For(name, Key));
        Assert.Equal($"{name} Help Center", portal.Name);
        Assert.Single(chatwoot.Categories, c => c.PortalId == portal.Id && c.Slug == ChatwootOnboarding.DefaultCategorySlug);
        var rule = Assert.Single(chatwoot.AutomationRules);
        Assert.Equal("conversation_created", rule.EventName);
        Assert.Contains(inbox.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), rule.ConditionsJson, StringComparison.Ordinal);
        Assert.Contains(team.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), rule.ActionsJson, StringComparison.Ordinal);
        Assert.Empty(chatwoot.Violations);
    }

    [Fact]
    public async Task Onboarding_creates_one_inbox_team_portal_category_and_routing_rule_and_stores_their_ids()
    {
        await OnboardAsync();

        Assert.Equal(WorkflowStatus.Completed, (await EndedAsync()).Status);
        AssertOneOfEach();
        var support = await SupportAsync();
        var inbox = chatwoot.Inboxes.Single();
        Assert.Equal(inbox.Id, support.Resources.InboxId);
        Assert.Equal(chatwoot.Teams.Single().Id, support.Resources.TeamId);
        Assert.Equal(chatwoot.Portals.Single().Slug, support.Resources.PortalSlug);
        Assert.Equal(chatwoot.AutomationRules.Single().Id, support.Resources.RoutingRuleId);
        Assert.Equal(WorkflowStatus.Completed, support.Workflow!.Status);
        Assert.Equal(["started", "step-succeeded", "step-succeeded", "step-succeeded", "step-succeeded", "step-succeeded"], support.Workflow.History.Select(h => h.Event));
        // The inbox's own secret verifies its signed deliveries from now on.
        Assert.Equal(inbox.Secret, await app.Services.GetRequiredService<ChatwootWebhookKeys>().InboxSecretAsync(inbox.Id));
    }

    [Theory]
    [InlineData("POST /api/v1/accounts/{account_id}/inboxes")]
    [InlineData("POST /api/v1/accounts/{account_id}/teams")]
    [InlineData("POST /api/v1/accounts/{account_id}/portals")]
    [InlineData("POST /api/v1/accounts/{account_id}/portals/{id}/categories")]
    [InlineData("POST /api/v1/accounts/{account_id}/automation_rules")]
    public async Task A_crash_between_creating_in_Chatwoot_and_storing_the_id_still_leaves_one_of_each(string create)
    {
        // Chatwoot creates the resource, and the answer never arrives: as if this instance died before storing the id.
        chatwoot.FailNext(create, 0, afterApplying: true);

        await OnboardAsync();

        Assert.Equal(WorkflowStatus.Completed, (await EndedAsync()).Status);
        AssertOneOfEach();
        Assert.Contains((await SupportAsync()).Workflow!.History, h => h.Event == "step-failed");
    }

    [Fact]
    public async Task Running_every_step_again_and_redelivering_the_event_creates_nothing_more()
    {
        await OnboardAsync();
        await EndedAsync(WorkflowStatus.Completed);
        var steps = app.Services.GetServices<IWorkflowSteps>().OfType<ChatwootOnboarding>().Single();
        var inputs = new Dictionary<string, string> { [ChatwootOnboarding.ProviderInput] = Key };

        foreach (var step in ChatwootOnboarding.Steps)
        {
            await steps.RunAsync(step, new WorkflowStepContext(InstanceId, inputs, 1), CancellationToken.None);
        }

        await app.Services.GetRequiredService<WorkflowRunner>().StartAsync(ChatwootOnboarding.Name, InstanceId, inputs, CancellationToken.None);
        AssertOneOfEach();
    }

    [Fact]
    public async Task A_429_from_Chatwoot_is_retried_and_the_onboarding_completes()
    {
        chatwoot.FailNext("POST /api/v1/accounts/{account_id}/teams", 429);

        await OnboardAsync();

        Assert.Equal(WorkflowStatus.Completed, (await EndedAsync()).Status);
        AssertOneOfEach();
        var failure = Assert.Single((await SupportAsync()).Workflow!.History, h => h.Event == "step-failed");
        Assert.Contains("429", failure.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_portal_slug_taken_by_an_earlier_attempt_is_resolved_by_finding_that_portal()
    {
        var slug = ChatwootSlug.For("Acme Cloud", Key);
        var client = app.Services.GetRequiredService<ChatwootClient>();
        await client.CreatePortalAsync("Acme Cloud Help Center", slug, CancellationToken.None);

        await OnboardAsync();

        Assert.Equal(WorkflowStatus.Completed, (await EndedAsync()).Status);
        AssertOneOfEach();
        Assert.Contains(chatwoot.Requests, r => r.Operation == "POST /api/v1/accounts/{account_id}/portals" && r.Status == 422);
    }

    [Fact]
    public async Task A_provider_of_the_same_name_gets_its_own_team_not_the_other_providers()
    {
        var other = Ed25519phKey.Generate();
        using (var client = app.SignedBy(other))
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("api/v1/providers", new ProviderProfile("Acme Cloud", null, null, "x@other.example", ["eu"], null, null))).StatusCode);
        }

        var store = app.Services.GetRequiredService<WorkflowStore>();
        await Eventually.HoldsAsync(async () => (await store.FindAsync(ChatwootOnboarding.InstanceId(other.PublicKeyHex), CancellationToken.None))?.Status == WorkflowStatus.Completed, "the first provider is onboarded");

        await OnboardAsync();

        Assert.Equal(WorkflowStatus.Completed, (await EndedAsync()).Status);
        Assert.Equal(2, chatwoot.Teams.Count);
        Assert.Contains(chatwoot.Teams, t => t.Name == $"acme cloud team {Key[..8]}");
        Assert.NotEqual((await SupportAsync()).Resources.TeamId, chatwoot.Teams.Single(t => t.Name == "acme cloud team").Id);
    }

    [Fact]
    public async Task A_permanent_failure_shows_the_real_error_to_admins_and_an_admin_resumes_it()
    {
        chatwoot.FailNext("POST /api/v1/accounts/{account_id}/portals", 401);

        await OnboardAsync();

        var failed = await EndedAsync(WorkflowStatus.Failed);
        Assert.Equal(("portal", 1), (failed.Step, failed.Attempt));
        Assert.Contains("401", failed.LastError, StringComparison.Ordinal);
        Assert.Contains("ChatwootException", failed.LastError, StringComparison.Ordinal);
        Assert.DoesNotContain(ChatwootStandIn.AdminToken, failed.LastError, StringComparison.Ordinal);
        Assert.Equal("failed", (await SupportAsync()).Workflow!.Status);

        using var admin = new HttpClient { BaseAddress = app.Client.BaseAddress };
        admin.DefaultRequestHeaders.Add("x-functions-key", TestKeys.Master);
        var seenByAdmin = (await admin.GetFromJsonAsync<ProviderSupportView>($"api/v1/admin/providers/{Key}/support"))!;
        Assert.Contains("401", seenByAdmin.Workflow!.LastError, StringComparison.Ordinal);
        var failedList = (await admin.GetFromJsonAsync<List<WorkflowSummary>>("api/v1/admin/workflows?status=failed"))!;
        Assert.Contains(failedList, w => w.Id == InstanceId && w.Step == "portal");
        var resumed = await admin.PostAsync($"api/v1/admin/providers/{Key}/support/retry", null);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);

        Assert.Equal(WorkflowStatus.Completed, (await EndedAsync(WorkflowStatus.Completed)).Status);
        AssertOneOfEach();
        await ApiAssert.ProblemAsync(await admin.PostAsync($"api/v1/admin/providers/{Key}/support/retry", null), HttpStatusCode.Conflict);
        await ApiAssert.ProblemAsync(await app.Client.PostAsync($"api/v1/admin/providers/{Key}/support/retry", null), HttpStatusCode.Unauthorized);
        Assert.Contains((await SupportAsync()).Workflow!.History, h => h.Event == "resumed" && h.By == "master");
    }

    [Fact]
    public async Task Only_the_provider_reads_its_support()
    {
        await OnboardAsync();
        using var stranger = app.SignedBy(Ed25519phKey.Generate());

        await ApiAssert.ProblemAsync(await stranger.GetAsync($"api/v1/providers/{Key}/support"), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Agents_are_added_to_the_team_and_inbox_found_by_email_when_they_exist_and_removed_again()
    {
        await OnboardAsync();
        await EndedAsync(WorkflowStatus.Completed);
        var existing = chatwoot.AddAgent("Erin Existing", "erin@acme.example");
        using var client = app.SignedBy(provider);

        var added = await client.PostAsJsonAsync($"api/v1/providers/{Key}/support/agents", new { name = "Nora New", email = "nora@acme.example" });
        var found = await client.PostAsJsonAsync($"api/v1/providers/{Key}/support/agents", new { name = "Erin", email = "ERIN@acme.example" });
        var invalid = await client.PostAsJsonAsync($"api/v1/providers/{Key}/support/agents", new { name = "", email = "not-an-email" });

        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        Assert.Equal(HttpStatusCode.Created, found.StatusCode);
        await ApiAssert.ProblemAsync(invalid, HttpStatusCode.BadRequest);
        var nora = Assert.Single(chatwoot.Users, u => u.Email == "nora@acme.example");
        Assert.True(nora.ViaPlatform);
        Assert.Contains(chatwoot.AccountUsers, a => a.UserId == nora.Id && a.Role == ChatwootRoles.Agent);
        Assert.Single(chatwoot.Users, u => u.Email == "erin@acme.example");
        var support = (await SupportAsync()).Resources;
        Assert.Equal([existing.Id, nora.Id], chatwoot.TeamMembers[support.TeamId!.Value].Order());
        Assert.Equal([existing.Id, nora.Id], chatwoot.InboxMembers[support.InboxId!.Value].Order());
        var listed = (await client.GetFromJsonAsync<List<SupportAgentView>>($"api/v1/providers/{Key}/support/agents"))!;
        Assert.Equal(["erin@acme.example", "nora@acme.example"], listed.Select(a => a.Email).Order());

        var removed = await client.DeleteAsync($"api/v1/providers/{Key}/support/agents/{nora.Id}");

        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal([existing.Id], chatwoot.TeamMembers[support.TeamId.Value]);
        Assert.Equal([existing.Id], chatwoot.InboxMembers[support.InboxId.Value]);
        Assert.Single((await client.GetFromJsonAsync<List<SupportAgentView>>($"api/v1/providers/{Key}/support/agents"))!);
        await ApiAssert.ProblemAsync(await client.DeleteAsync($"api/v1/providers/{Key}/support/agents/{nora.Id}"), HttpStatusCode.NotFound);
        Assert.Empty(chatwoot.Violations);
    }

    [Fact]
    public async Task An_agent_cannot_be_added_before_the_team_and_inbox_exist()
    {
        chatwoot.FailNext("POST /api/v1/accounts/{account_id}/inboxes", 401);
        await OnboardAsync();
        await EndedAsync(WorkflowStatus.Failed);
        using var client = app.SignedBy(provider);

        var refused = await ApiAssert.ProblemAsync(await client.PostAsJsonAsync($"api/v1/providers/{Key}/support/agents", new { name = "Nora", email = "nora@acme.example" }), HttpStatusCode.Conflict);

        Assert.Equal("Support not ready", refused.GetProperty("title").GetString());
    }
}
