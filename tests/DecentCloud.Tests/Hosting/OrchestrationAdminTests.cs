using System.Net;
using System.Net.Http.Json;
using DecentCloud.Functions.Chatwoot.Api;
using DecentCloud.Functions.Chatwoot.Onboarding;
using DecentCloud.Functions.Operations;
using DecentCloud.Functions.Operations.Orchestrations;
using DecentCloud.Shared.Signing;
using DecentCloud.Tests.Chatwoot;
using DecentCloud.Tests.Support;
using Microsoft.DurableTask.Client;

namespace DecentCloud.Tests.Hosting;

/// <summary>
/// The admin endpoints over the task hub (<c>/api/v1/admin/orchestrations</c>), through the real host, its durable
/// sidecar and the app's durable client binding, with the Chatwoot onboarding as the orchestration they act on. Each
/// test has an app, a task hub and a Chatwoot stand-in of its own, since each counts what is in them; the refusals,
/// which need no instance, are in OrchestrationAdminRefusalTests on one shared app.
/// </summary>
public sealed class OrchestrationAdminTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>, IAsyncLifetime, IDisposable
{
    private const string CreateInbox = "POST /api/v1/accounts/{account_id}/inboxes";
    private const string CreateTeam = "POST /api/v1/accounts/{account_id}/teams";
    private const string CreatePortal = "POST /api/v1/accounts/{account_id}/portals";

    private readonly Ed25519phKey provider = Ed25519phKey.Generate();
    private ChatwootStandIn chatwoot = null!;
    private TestFunctionApp app = null!;
    private HttpClient admin = null!;

    private string InstanceId => ChatwootOnboarding.InstanceId(provider.PublicKeyHex);

    public async Task InitializeAsync()
    {
        chatwoot = await ChatwootStandIn.StartAsync();
        app = await TestFunctionApp.StartAsync(storage.ConnectionString, settings: ChatwootOnboardingTests.Settings(chatwoot));
        admin = new HttpClient { BaseAddress = app.Client.BaseAddress };
        admin.DefaultRequestHeaders.Add("x-functions-key", TestKeys.Master);
    }

    public async Task DisposeAsync()
    {
        await app.DisposeAsync();
        await chatwoot.DisposeAsync();
    }

    public void Dispose() => admin.Dispose();

    private Task<OrchestrationMetadata> EndedAsync(string instanceId, OrchestrationRuntimeStatus status, DateTimeOffset? updatedAfter = null) =>
        ChatwootOnboardingTests.EndedAsync(app, instanceId, status, updatedAfter);

    private async Task<OrchestrationView> GetAsync(string instanceId) =>
        (await admin.GetFromJsonAsync<OrchestrationView>($"api/v1/admin/orchestrations/{instanceId}"))!;

    private async Task<OrchestrationPage> ListAsync(string query) =>
        (await admin.GetFromJsonAsync<OrchestrationPage>($"api/v1/admin/orchestrations{query}"))!;

    private async Task<IReadOnlyList<string>> AuditedAsync() =>
        (await admin.GetFromJsonAsync<List<AdminAction>>("api/v1/admin/actions"))!.Select(a => a.Action).ToList();

    [Fact]
    public async Task A_failed_orchestration_shows_its_input_progress_and_failure_chain_and_a_restart_after_the_fix_completes_it()
    {
        chatwoot.FailNext(CreatePortal, 401);
        await ChatwootOnboardingTests.OnboardAsync(app, provider);
        var failed = await EndedAsync(InstanceId, OrchestrationRuntimeStatus.Failed);

        var view = await GetAsync(InstanceId);

        Assert.Equal(("Failed", nameof(ChatwootOnboarding)), (view.Status, view.Name));
        Assert.Contains(provider.PublicKeyHex, view.Input!.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("\"portal\"", view.CustomStatus!.ToJsonString(), StringComparison.Ordinal);
        Assert.True(view.CreatedAt <= view.LastUpdatedAt);
        var failure = view.Failure!;
        Assert.Equal(typeof(Microsoft.DurableTask.TaskFailedException).FullName, failure.ErrorType);
        Assert.Equal(typeof(OnboardingRefusedException).FullName, failure.Inner!.ErrorType);
        Assert.Equal(typeof(ChatwootException).FullName, failure.Inner.Inner!.ErrorType);
        Assert.Contains("Chatwoot answered HTTP 401", failure.Inner.Inner.Message, StringComparison.Ordinal);

        // Chatwoot's refusal was a one-off (a token fixed, say): a restart runs the onboarding again under its id.
        using var restarted = await admin.PostAsync($"api/v1/admin/orchestrations/{InstanceId}/restart", null);

        Assert.Equal(HttpStatusCode.Accepted, restarted.StatusCode);
        var done = await EndedAsync(InstanceId, OrchestrationRuntimeStatus.Completed, updatedAfter: failed.LastUpdatedAt);
        ChatwootOnboardingTests.AssertOneOfEach(chatwoot, provider.PublicKeyHex);
        var after = await GetAsync(InstanceId);
        Assert.Equal("Completed", after.Status);
        Assert.Null(after.Failure);
        Assert.Contains(chatwoot.AutomationRules.Single().Id.ToString(System.Globalization.CultureInfo.InvariantCulture), after.Output!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(done.CreatedAt, after.CreatedAt);
        Assert.Contains("get-orchestration", await AuditedAsync());
        Assert.Contains("restart-orchestration", await AuditedAsync());
    }

    [Fact]
    public async Task Terminate_stops_a_running_orchestration_with_the_reason_and_a_restart_runs_it_to_the_end()
    {
        var held = chatwoot.HoldNext(CreateTeam);
        await ChatwootOnboardingTests.OnboardAsync(app, provider);
        await held.Arrived.WaitAsync(TimeSpan.FromSeconds(60));
        var running = await GetAsync(InstanceId);
        Assert.Equal("Running", running.Status);
        await ApiAssert.ProblemAsync(await admin.PostAsync($"api/v1/admin/orchestrations/{InstanceId}/restart", null), HttpStatusCode.Conflict);
        await ApiAssert.ProblemAsync(await admin.PostAsync($"api/v1/admin/orchestrations/{InstanceId}/terminate", null), HttpStatusCode.BadRequest);
        await ApiAssert.ProblemAsync(await admin.PostAsJsonAsync($"api/v1/admin/orchestrations/{InstanceId}/terminate", new { reason = "  " }), HttpStatusCode.BadRequest);
        await ApiAssert.ProblemAsync(await admin.PostAsJsonAsync($"api/v1/admin/orchestrations/{InstanceId}/terminate", new { reason = new string('x', 1001) }), HttpStatusCode.BadRequest);

        using var terminated = await admin.PostAsJsonAsync($"api/v1/admin/orchestrations/{InstanceId}/terminate", new { reason = "the provider left" });

        Assert.Equal(HttpStatusCode.Accepted, terminated.StatusCode);
        var ended = await EndedAsync(InstanceId, OrchestrationRuntimeStatus.Terminated);
        Assert.Contains("the provider left", (await GetAsync(InstanceId)).Output!.ToJsonString(), StringComparison.Ordinal);
        using (var signed = app.SignedBy(provider))
        {
            var support = (await signed.GetFromJsonAsync<ProviderSupportView>($"api/v1/providers/{provider.PublicKeyHex}/support"))!;
            Assert.Equal("Terminated", support.Onboarding!.Status);
        }

        // The team call in flight finishes; the terminated orchestration schedules nothing after it.
        held.Release();
        await Eventually.HoldsAsync(() => chatwoot.Requests.Any(r => r.Operation == CreateTeam && r.Status == 200), "the held team request was answered");
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, (await app.Orchestrations.GetInstanceAsync(InstanceId))!.RuntimeStatus);
        await ApiAssert.ProblemAsync(await admin.PostAsJsonAsync($"api/v1/admin/orchestrations/{InstanceId}/terminate", new { reason = "again" }), HttpStatusCode.Conflict);

        using var restarted = await admin.PostAsync($"api/v1/admin/orchestrations/{InstanceId}/restart", null);
        Assert.Equal(HttpStatusCode.Accepted, restarted.StatusCode);
        await EndedAsync(InstanceId, OrchestrationRuntimeStatus.Completed, updatedAfter: ended.LastUpdatedAt);
        ChatwootOnboardingTests.AssertOneOfEach(chatwoot, provider.PublicKeyHex);
        Assert.Contains("terminate-orchestration", await AuditedAsync());
    }

    [Fact]
    public async Task The_list_filters_by_status_and_name_and_pages_through_every_instance_once()
    {
        chatwoot.FailNext(CreateInbox, 422);
        await ChatwootOnboardingTests.OnboardAsync(app, provider);
        await EndedAsync(InstanceId, OrchestrationRuntimeStatus.Failed);
        var others = new[] { Ed25519phKey.Generate(), Ed25519phKey.Generate() };
        foreach (var other in others)
        {
            await ChatwootOnboardingTests.OnboardAsync(app, other, $"Other {other.PublicKeyHex[..6]}");
        }

        foreach (var other in others)
        {
            await EndedAsync(ChatwootOnboarding.InstanceId(other.PublicKeyHex), OrchestrationRuntimeStatus.Completed);
        }

        var completedIds = others.Select(o => ChatwootOnboarding.InstanceId(o.PublicKeyHex)).Order(StringComparer.Ordinal).ToList();
        var all = completedIds.Append(InstanceId).Order(StringComparer.Ordinal).ToList();

        Assert.Equal([InstanceId], (await ListAsync("?status=Failed")).Instances.Select(i => i.InstanceId));
        Assert.Equal(completedIds, (await ListAsync($"?status=completed&name={nameof(ChatwootOnboarding)}")).Instances.Select(i => i.InstanceId).Order(StringComparer.Ordinal));
        Assert.Equal(all, (await ListAsync("?status=Completed,Failed")).Instances.Select(i => i.InstanceId).Order(StringComparer.Ordinal));
        Assert.Empty((await ListAsync("?status=Running,Pending")).Instances);
        var unnamed = await ListAsync("?name=NoSuchOrchestration");
        Assert.Empty(unnamed.Instances);
        Assert.Null(unnamed.Continuation);
        Assert.All((await ListAsync("")).Instances, i => Assert.Equal(nameof(ChatwootOnboarding), i.Name));

        foreach (var query in new[] { "?pageSize=1", $"?pageSize=1&name={nameof(ChatwootOnboarding)}", "?pageSize=2&status=Completed,Failed" })
        {
            var seen = new List<string>();
            string? continuation = null;
            var pages = 0;
            do
            {
                var page = await ListAsync(query + (continuation is null ? "" : $"&continuation={continuation}"));
                Assert.InRange(page.Instances.Count, 0, query.Contains("pageSize=1", StringComparison.Ordinal) ? 1 : 2);
                seen.AddRange(page.Instances.Select(i => i.InstanceId));
                continuation = page.Continuation;
                Assert.True(++pages <= 10, $"{query} pages on without end");
            }
            while (continuation is not null);

            Assert.Equal(all, seen.Order(StringComparer.Ordinal));
        }

        Assert.Contains("list-orchestrations", await AuditedAsync());
    }
}
