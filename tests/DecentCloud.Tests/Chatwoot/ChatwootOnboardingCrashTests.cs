using System.Net;
using System.Net.Http.Json;
using DecentCloud.Functions.Chatwoot.Onboarding;
using DecentCloud.Functions.Marketplace.Providers;
using DecentCloud.Shared.Signing;
using DecentCloud.Tests.LocalHost;
using DecentCloud.Tests.Support;
using Microsoft.DurableTask.Client;
using Xunit.Abstractions;

namespace DecentCloud.Tests.Chatwoot;

/// <summary>The onboarding survives its host: a machine that dies between two Chatwoot resources.</summary>
public sealed class ChatwootOnboardingCrashTests(AzuriteFixture storage, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string CreateInbox = "POST /api/v1/accounts/{account_id}/inboxes";
    private const string CreateTeam = "POST /api/v1/accounts/{account_id}/teams";

    [Fact]
    public async Task A_host_and_worker_killed_after_the_inbox_leave_the_onboarding_to_a_new_host_which_makes_one_resource_of_each()
    {
        await using var chatwoot = await ChatwootStandIn.StartAsync();
        var provider = Ed25519phKey.Generate();
        var hostId = TestFunctionApp.UniqueHostId();

        // A work item the dead host held is handed out again after its visibility timeout: 3 s rather than 30.
        var settings = ChatwootOnboardingTests.Settings(chatwoot);
        settings["AzureFunctionsJobHost__extensions__durableTask__storageProvider__controlQueueVisibilityTimeout"] = "00:00:03";
        settings["AzureFunctionsJobHost__extensions__durableTask__storageProvider__workItemQueueVisibilityTimeout"] = "00:00:03";
        var environment = TestFunctionApp.Settings(storage.ConnectionString, hostId);
        foreach (var (name, value) in TestFunctionApp.HostJsonSettings(TestFunctionApp.DefaultHostJson).Concat(settings))
        {
            environment[name] = value;
        }

        // The team is asked for, and the request waits in Chatwoot until its caller is gone.
        var team = chatwoot.HoldNext(CreateTeam);
        await using (var first = await HostProcess.StartAsync(TestFunctionApp.AppDirectory, environment, output))
        {
            using (var signed = new HttpClient(new SigningHandler(provider, TimeProvider.System, new SocketsHttpHandler())) { BaseAddress = first.BaseAddress })
            {
                var onboarded = await signed.PostAsJsonAsync("api/v1/providers", new ProviderProfile("Acme Cloud", null, null, "support@acme.example", ["eu-central"], null, null));
                Assert.Equal(HttpStatusCode.Created, onboarded.StatusCode);
            }

            await team.Arrived.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Single(chatwoot.Inboxes);

            await first.KillWithWorkerAsync();
            await Eventually.HoldsAsync(() => !HostProcess.IsRunning(first.WorkerProcessId), "the killed host's worker has exited", TimeSpan.FromSeconds(10));
        }

        Assert.Empty(chatwoot.Teams);
        await using var second = await TestFunctionApp.StartAsync(storage.ConnectionString, hostId, settings);

        var done = await ChatwootOnboardingTests.EndedAsync(second, ChatwootOnboarding.InstanceId(provider.PublicKeyHex));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        ChatwootOnboardingTests.AssertOneOfEach(chatwoot, provider.PublicKeyHex);
        // The inbox was asked for once, before the crash; the new host found it recorded.
        Assert.Single(chatwoot.Requests, r => r.Operation == CreateInbox);
    }
}
