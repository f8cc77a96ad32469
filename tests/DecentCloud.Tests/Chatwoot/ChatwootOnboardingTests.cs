using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DecentCloud.Functions.Chatwoot.Api;
using DecentCloud.Functions.Chatwoot.Onboarding;
using DecentCloud.Functions.Chatwoot.Webhooks;
using DecentCloud.Functions.Marketplace.Providers;
using DecentCloud.Functions.Marketplace.Events;
using DecentCloud.Functions.Platform.Queues;
using DecentCloud.Shared.Signing;
using DecentCloud.Tests.Support;
using Microsoft.DurableTask.Client;

namespace DecentCloud.Tests.Chatwoot;

/// <summary>One Azurite, one Chatwoot stand-in and one app for the onboarding tests, which keep apart by their providers' keys and names.</summary>
public sealed class ChatwootOnboardingFixture : IAsyncLifetime
{
    private readonly AzuriteFixture storage = new();

    public ChatwootStandIn Chatwoot { get; private set; } = null!;

    public TestFunctionApp App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await storage.InitializeAsync();
        Chatwoot = await ChatwootStandIn.StartAsync();
        App = await TestFunctionApp.StartAsync(storage.ConnectionString, settings: ChatwootOnboardingTests.Settings(Chatwoot));
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await Chatwoot.DisposeAsync();
        await storage.DisposeAsync();
    }
}

/// <summary>
/// A provider's onboarding, from the provider-onboarded event to its Chatwoot resources, through the real host, its
/// task hub on Azurite and a Chatwoot stand-in that checks every request against Chatwoot's OpenAPI file. The tests
/// share the stand-in: each has a provider of its own, named with a tag of its own, and looks only at what carries it.
/// </summary>
public sealed class ChatwootOnboardingTests(ChatwootOnboardingFixture fixture) : IClassFixture<ChatwootOnboardingFixture>
{
    private const string CreateInbox = "POST /api/v1/accounts/{account_id}/inboxes";
    private const string CreateTeam = "POST /api/v1/accounts/{account_id}/teams";
    private const string CreatePortal = "POST /api/v1/accounts/{account_id}/portals";

    private readonly Ed25519phKey provider = Ed25519phKey.Generate();
    private readonly string tag = Guid.NewGuid().ToString("N")[..8];

    private readonly ChatwootStandIn chatwoot = fixture.Chatwoot;
    private readonly TestFunctionApp app = fixture.App;

    private string Key => provider.PublicKeyHex;

    /// <summary>The provider's name: Chatwoot's team names are unique per account, so each test's are its own.</summary>
    private string Name => $"Acme {tag}";

    private string InstanceId => ChatwootOnboarding.InstanceId(Key);

    /// <summary>Retries a tenth of a second apart, three attempts: the policy of production, quicker.</summary>
    internal static Dictionary<string, string?> Settings(ChatwootStandIn chatwoot) => new(chatwoot.Settings())
    {
        ["PUBLIC_BASE_URL"] = "https://api.decentcloud.example",
        ["CHATWOOT_ONBOARDING_RETRY_SECONDS"] = "0.1",
        ["CHATWOOT_ONBOARDING_MAX_ATTEMPTS"] = "3",
    };

    internal static async Task OnboardAsync(TestFunctionApp app, Ed25519phKey provider, string name = "Acme Cloud")
    {
        using var client = app.SignedBy(provider);
        var response = await client.PostAsJsonAsync("api/v1/providers", new ProviderProfile(name, null, null, "support@acme.example", ["eu-central"], null, null));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private Task OnboardAsync() => OnboardAsync(app, provider, Name);

    /// <summary>Waits until the provider's onboarding has ended (in <paramref name="status"/>, when given) and answers it.</summary>
    internal static async Task<OrchestrationMetadata> EndedAsync(TestFunctionApp app, string instanceId, OrchestrationRuntimeStatus? status = null, DateTimeOffset? updatedAfter = null)
    {
        OrchestrationMetadata? instance = null;
        await Eventually.HoldsAsync(
            async () => (instance = await app.Orchestrations.GetInstanceAsync(instanceId, getInputsAndOutputs: true)) is { IsCompleted: true } ended
                && (status is null || ended.RuntimeStatus == status)
                && (updatedAfter is null || ended.LastUpdatedAt > updatedAfter),
            $"onboarding {instanceId} has ended{(status is null ? "" : $" {status}")}",
            TimeSpan.FromSeconds(60));
        return instance!;
    }

    private Task<OrchestrationMetadata> EndedAsync(OrchestrationRuntimeStatus? status = null) => EndedAsync(app, InstanceId, status);

    private async Task<ProviderSupportView> SupportAsync()
    {
        using var client = app.SignedBy(provider);
        return (await client.GetFromJsonAsync<ProviderSupportView>($"api/v1/providers/{Key}/support"))!;
    }

    private async Task<ProviderSupportView> AdminSupportAsync()
    {
        using var admin = Admin();
        return (await admin.GetFromJsonAsync<ProviderSupportView>($"api/v1/admin/providers/{Key}/support"))!;
    }

    private HttpClient Admin()
    {
        var admin = new HttpClient { BaseAddress = app.Client.BaseAddress };
        admin.DefaultRequestHeaders.Add("x-functions-key", TestKeys.Master);
        return admin;
    }

    /// <summary>One inbox, team, portal, category and routing rule for the provider, wired together, in the stand-in.</summary>
    internal static void AssertOneOfEach(ChatwootStandIn chatwoot, string key, string name = "Acme Cloud")
    {
        var marker = $"provider={key}";
        var inbox = Assert.Single(chatwoot.Inboxes, i => i.WebhookUrl?.Contains(marker, StringComparison.Ordinal) == true);
        Assert.Equal($"{name} Support", inbox.Name);
        Assert.Equal("Channel::Api", inbox.ChannelType);
        Assert.StartsWith("https://api.decentcloud.example/api/v1/webhooks/chatwoot?", inbox.WebhookUrl, StringComparison.Ordinal);
        var team = Assert.Single(chatwoot.Teams, t => string.Equals(t.Name, $"{name} Team", StringComparison.OrdinalIgnoreCase));
        var portal = Assert.Single(chatwoot.Portals, p => p.Slug == ChatwootSlug.For(name, key));
        Assert.Equal($"{name} Help Center", portal.Name);
        Assert.Single(chatwoot.Categories, c => c.PortalId == portal.Id && c.Slug == SupportResourceSetup.DefaultCategorySlug);
        var rule = Assert.Single(chatwoot.AutomationRules, r => r.Name == $"Route {key[..8]} support to its team");
        Assert.Equal("conversation_created", rule.EventName);
        Assert.Contains(inbox.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), rule.ConditionsJson, StringComparison.Ordinal);
        Assert.Contains(team.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), rule.ActionsJson, StringComparison.Ordinal);
        Assert.Empty(chatwoot.Violations);
    }

    private void AssertOneOfEach() => AssertOneOfEach(chatwoot, Key, Name);

    /// <summary>This test's requests: each names the provider (its name, key, slug or webhook URL carries the tag or the key).</summary>
    private IEnumerable<ChatwootRequest> Mine() =>
        chatwoot.Requests.Where(r => (r.Path + r.Body).Contains(tag, StringComparison.Ordinal) || (r.Path + r.Body).Contains(Key[..8], StringComparison.Ordinal));

    private int Creates() => Mine().Count(r => r.Method == "POST");

    private StoredInbox Inbox() => chatwoot.Inboxes.Single(i => i.WebhookUrl?.Contains($"provider={Key}", StringComparison.Ordinal) == true);

    private StoredTeam Team() => chatwoot.Teams.Single(t => string.Equals(t.Name, $"{Name} Team", StringComparison.OrdinalIgnoreCase));

    private StoredPortal Portal() => chatwoot.Portals.Single(p => p.Slug == ChatwootSlug.For(Name, Key));

    private StoredRule Rule() => chatwoot.AutomationRules.Single(r => r.Name == $"Route {Key[..8]} support to its team");

    [Fact]
    public async Task Onboarding_creates_one_inbox_team_portal_category_and_routing_rule_and_stores_their_ids()
    {
        await OnboardAsync();

        var done = await EndedAsync();

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        AssertOneOfEach();
        var support = await SupportAsync();
        var inbox = Inbox();
        Assert.Equal(inbox.Id, support.Resources.InboxId);
        Assert.Equal(Team().Id, support.Resources.TeamId);
        Assert.Equal(Portal().Slug, support.Resources.PortalSlug);
        Assert.Equal(Rule().Id, support.Resources.RoutingRuleId);
        var category = chatwoot.Categories.Single(c => c.PortalId == Portal().Id);
        Assert.Equal(new OnboardedResources(inbox.Id, Team().Id, Portal().Id, category.Id, Rule().Id), done.ReadOutputAs<OnboardedResources>());
        Assert.Equal("Completed", support.Onboarding!.Status);
        Assert.Equal(ChatwootOnboarding.Steps, support.Onboarding.StepsDone);
        Assert.Null(support.Onboarding.RunningStep);
        Assert.Null(support.Onboarding.Error);
        // The inbox's own secret verifies its signed deliveries from now on.
        Assert.Equal(inbox.Secret, await app.Services.GetRequiredService<ChatwootWebhookKeys>().InboxSecretAsync(inbox.Id));
    }

    [Theory]
    [InlineData(CreateInbox)]
    [InlineData(CreateTeam)]
    [InlineData(CreatePortal)]
    [InlineData("POST /api/v1/accounts/{account_id}/portals/{id}/categories")]
    [InlineData("POST /api/v1/accounts/{account_id}/automation_rules")]
    public async Task A_lost_answer_after_Chatwoot_created_the_resource_is_retried_and_still_leaves_one_of_each(string create)
    {
        // Chatwoot creates the resource, and the answer never arrives: as if this instance died before storing the id. Only
        // this provider's request fails: the category's path names its portal (slug), the rule's body the key.
        chatwoot.FailNext(create, 0, afterApplying: true, mentioning: create is CreateInbox or CreateTeam or CreatePortal ? tag : create.EndsWith("categories", StringComparison.Ordinal) ? ChatwootSlug.For(Name, Key) : Key[..8]);

        await OnboardAsync();

        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await EndedAsync()).RuntimeStatus);
        AssertOneOfEach();
        Assert.Contains(Mine(), r => r.Operation == create && r.Status == 0);
    }

    [Fact]
    public async Task Restarting_the_onboarding_and_redelivering_the_event_creates_nothing_more()
    {
        await OnboardAsync();
        var first = await EndedAsync(OrchestrationRuntimeStatus.Completed);
        var creates = Creates();

        await app.Orchestrations.RestartAsync(InstanceId, restartWithNewInstanceId: false);
        var again = await EndedAsync(app, InstanceId, OrchestrationRuntimeStatus.Completed, updatedAfter: first.LastUpdatedAt);
        var onboarded = new ProviderOnboarded(Key, Name, "support@acme.example", null, ["eu-central"]);
        await app.Services.GetRequiredService<QueueWriter>().SendAsync(StartChatwootOnboarding.QueueName, new DomainEvent<ProviderOnboarded>(Guid.NewGuid(), "provider-onboarded", DateTimeOffset.UtcNow, onboarded));
        await Eventually.HoldsAsync(() => app.Logs.Entries.Any(e => e.Message.Contains($"{InstanceId} is Completed already", StringComparison.Ordinal)), "the redelivered event found the onboarding");

        Assert.Equal(first.ReadOutputAs<OnboardedResources>(), again.ReadOutputAs<OnboardedResources>());
        Assert.Equal(creates, Creates());
        Assert.Equal(again.LastUpdatedAt, (await app.Orchestrations.GetInstanceAsync(InstanceId))!.LastUpdatedAt);
        AssertOneOfEach();
    }

    [Theory]
    [InlineData(429)]
    [InlineData(503)]
    public async Task A_retryable_error_from_Chatwoot_is_retried_with_back_off_and_the_onboarding_completes(int status)
    {
        chatwoot.FailNext(CreateTeam, status, count: 2, mentioning: tag);

        await OnboardAsync();

        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await EndedAsync()).RuntimeStatus);
        AssertOneOfEach();
        Assert.Equal([status, status, 200], Mine().Where(r => r.Operation == CreateTeam).Select(r => r.Status));
    }

    [Fact]
    public async Task A_retryable_error_on_every_attempt_fails_the_onboarding_after_the_last_one()
    {
        chatwoot.FailNext(CreateTeam, 502, count: 3, mentioning: tag);

        await OnboardAsync();

        await EndedAsync(OrchestrationRuntimeStatus.Failed);
        Assert.Equal(3, Mine().Count(r => r.Operation == CreateTeam));
        var failure = (await AdminSupportAsync()).Onboarding!.Failure!;
        Assert.Equal(typeof(ChatwootException).FullName, failure.Inner!.ErrorType);
        Assert.Contains("502", failure.Inner.Message, StringComparison.Ordinal);
        Assert.Equal("team", (await SupportAsync()).Onboarding!.FailedStep);
    }

    [Fact]
    public async Task A_portal_slug_taken_by_an_earlier_attempt_is_resolved_by_finding_that_portal()
    {
        var slug = ChatwootSlug.For(Name, Key);
        var client = app.Services.GetRequiredService<ChatwootClient>();
        await client.CreatePortalAsync($"{Name} Help Center", slug, CancellationToken.None);

        await OnboardAsync();

        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await EndedAsync()).RuntimeStatus);
        AssertOneOfEach();
        Assert.Contains(Mine(), r => r.Operation == CreatePortal && r.Status == 422);
    }

    [Fact]
    public async Task A_provider_of_the_same_name_gets_its_own_team_not_the_other_providers()
    {
        var other = Ed25519phKey.Generate();
        await OnboardAsync(app, other, Name);
        await EndedAsync(app, ChatwootOnboarding.InstanceId(other.PublicKeyHex), OrchestrationRuntimeStatus.Completed);

        await OnboardAsync();

        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await EndedAsync()).RuntimeStatus);
        var teams = chatwoot.Teams.Where(t => t.Name.Contains(tag, StringComparison.Ordinal)).ToList();
        Assert.Equal(2, teams.Count);
        Assert.Contains(teams, t => t.Name == $"{Name.ToLowerInvariant()} team {Key[..8]}");
        Assert.NotEqual((await SupportAsync()).Resources.TeamId, teams.Single(t => t.Name == $"{Name.ToLowerInvariant()} team").Id);
    }

    [Fact]
    public async Task A_refusal_fails_the_onboarding_at_once_with_the_real_error_and_an_admin_retry_completes_it()
    {
        chatwoot.FailNext(CreatePortal, 401, mentioning: tag);

        await OnboardAsync();

        var failed = await EndedAsync(OrchestrationRuntimeStatus.Failed);
        Assert.Single(Mine(), r => r.Operation == CreatePortal);
        var seenByProvider = (await SupportAsync()).Onboarding!;
        Assert.Equal("Failed", seenByProvider.Status);
        Assert.Equal(["inbox", "team"], seenByProvider.StepsDone);
        Assert.Equal("portal", seenByProvider.FailedStep);
        Assert.Null(seenByProvider.RunningStep);
        Assert.Contains("portal for provider", seenByProvider.Error, StringComparison.Ordinal);
        Assert.Contains("401", seenByProvider.Error, StringComparison.Ordinal);
        Assert.Null(seenByProvider.Failure);

        // Admins see the whole chain: the orchestrator's error, the activity's refusal in it, Chatwoot's error in that.
        var failure = (await AdminSupportAsync()).Onboarding!.Failure!;
        Assert.Contains(nameof(CreatePortal), failure.Message, StringComparison.Ordinal);
        Assert.Equal(typeof(OnboardingRefusedException).FullName, failure.Inner!.ErrorType);
        Assert.Equal(typeof(ChatwootException).FullName, failure.Inner.Inner!.ErrorType);
        Assert.Contains("401", failure.Inner.Inner.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(ChatwootStandIn.AdminToken, JsonSerializer.Serialize(failure), StringComparison.Ordinal);

        using var admin = Admin();
        var retried = await admin.PostAsync($"api/v1/admin/providers/{Key}/support/retry", null);
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);

        await EndedAsync(app, InstanceId, OrchestrationRuntimeStatus.Completed, updatedAfter: failed.LastUpdatedAt);
        AssertOneOfEach();
        Assert.Equal(ChatwootOnboarding.Steps, (await SupportAsync()).Onboarding!.StepsDone);
        await ApiAssert.ProblemAsync(await admin.PostAsync($"api/v1/admin/providers/{Key}/support/retry", null), HttpStatusCode.Conflict);
        await ApiAssert.ProblemAsync(await app.Client.PostAsync($"api/v1/admin/providers/{Key}/support/retry", null), HttpStatusCode.Unauthorized);
        await ApiAssert.ProblemAsync(await admin.PostAsync($"api/v1/admin/providers/{Ed25519phKey.Generate().PublicKeyHex}/support/retry", null), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Only_the_provider_reads_its_support()
    {
        await OnboardAsync();
        using var stranger = app.SignedBy(Ed25519phKey.Generate());

        await ApiAssert.ProblemAsync(await stranger.GetAsync($"api/v1/providers/{Key}/support"), HttpStatusCode.Forbidden);

        // Not left running into the next test, which shares the stand-in.
        await EndedAsync(OrchestrationRuntimeStatus.Completed);
    }

    [Fact]
    public async Task Agents_are_added_to_the_team_and_inbox_found_by_email_when_they_exist_and_removed_again()
    {
        await OnboardAsync();
        await EndedAsync(OrchestrationRuntimeStatus.Completed);
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
        chatwoot.FailNext(CreateInbox, 401, mentioning: tag);
        await OnboardAsync();
        await EndedAsync(OrchestrationRuntimeStatus.Failed);
        using var client = app.SignedBy(provider);

        var refused = await ApiAssert.ProblemAsync(await client.PostAsJsonAsync($"api/v1/providers/{Key}/support/agents", new { name = "Nora", email = "nora@acme.example" }), HttpStatusCode.Conflict);

        Assert.Equal("Support not ready", refused.GetProperty("title").GetString());
    }
}
