using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using DecentCloud.Functions.Marketplace.Events;
using DecentCloud.Functions.Marketplace.Providers;
using DecentCloud.Shared.Signing;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Marketplace;

public sealed class ProviderTests(ProviderTests.Fixture fixture) : IClassFixture<ProviderTests.Fixture>
{
    private const string ChatwootQueue = "chatwoot-provider-onboarded";
    private readonly Ed25519phKey provider = Ed25519phKey.Generate();
    private readonly Ed25519phKey stranger = Ed25519phKey.Generate();
    private readonly TestFunctionApp app = fixture.App;

    // The Chatwoot onboarding consumer is off, so the provider-onboarded events stay on its queue for these tests to read.
    private TableClient Providers => app.Services.GetRequiredService<ProviderStore>().Table;

    private QueueClient Chatwoot => app.Services.GetRequiredService<QueueServiceClient>().GetQueueClient(ChatwootQueue);

    private static ProviderProfile Profile(string? name = "Acme Cloud") =>
        new(name, "GPU servers in Europe", "https://acme.example", "support@acme.example", ["eu-central", "eu-west"], "99.9% monthly uptime", "Pro rata refund of unused time");

    private async Task<HttpResponseMessage> OnboardAsync(Ed25519phKey key, object body)
    {
        using var client = app.SignedBy(key);
        return await client.PostAsJsonAsync("api/v1/providers", body);
    }

    private async Task<HttpResponseMessage> UpdateAsync(Ed25519phKey signer, string pubkey, object body)
    {
        using var client = app.SignedBy(signer);
        return await client.PutAsJsonAsync($"api/v1/providers/{pubkey}", body);
    }

    private async Task<ProviderEntity?> RowAsync(string pubkey)
    {
        await Providers.CreateIfNotExistsAsync();
        var row = await Providers.GetEntityIfExistsAsync<ProviderEntity>(pubkey, ProviderEntity.ProfileRowKey);
        return row.HasValue ? row.Value : null;
    }

    private async Task<List<JsonElement>> EventsForAsync(string pubkey)
    {
        await Chatwoot.CreateIfNotExistsAsync();
        var messages = await Chatwoot.PeekMessagesAsync(maxMessages: 32);
        return messages.Value
            .Select(m => JsonSerializer.Deserialize<JsonElement>(m.Body.ToString()))
            .Where(e => e.GetProperty("payload").GetProperty("publicKey").GetString() == pubkey)
            .ToList();
    }

    [Fact]
    public async Task Onboarding_saves_the_profile_under_the_signers_key_and_sends_the_event_to_the_chatwoot_queue()
    {
        var response = await OnboardAsync(provider, Profile());

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal($"/api/v1/providers/{provider.PublicKeyHex}", response.Headers.Location?.OriginalString);
        var view = await response.Content.ReadFromJsonAsync<ProviderView>();
        Assert.Equal(provider.PublicKeyHex, view!.PublicKey);
        Assert.Equal("Acme Cloud", view.Name);
        Assert.Equal(["eu-central", "eu-west"], view.Regions);

        var row = await RowAsync(provider.PublicKeyHex);
        Assert.NotNull(row);
        Assert.Equal("support@acme.example", row.SupportEmail);
        Assert.Equal("99.9% monthly uptime", row.Sla);
        Assert.NotNull(row.OnboardedEventPublishedAt);

        var message = Assert.Single(await EventsForAsync(provider.PublicKeyHex));
        Assert.Equal(EventSubscriptions.ProviderOnboarded, message.GetProperty("name").GetString());
        Assert.Equal(row.OnboardedEventId, message.GetProperty("id").GetGuid());
        Assert.Equal("Acme Cloud", message.GetProperty("payload").GetProperty("name").GetString());
        Assert.Equal("support@acme.example", message.GetProperty("payload").GetProperty("supportEmail").GetString());
        Assert.True(message.TryGetProperty("occurredAt", out _));
    }

    [Fact]
    public async Task An_onboarded_provider_can_be_read_back_by_anyone()
    {
        var created = await (await OnboardAsync(provider, Profile())).Content.ReadFromJsonAsync<ProviderView>();

        var response = await app.Client.GetAsync($"api/v1/providers/{provider.PublicKeyHex}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var read = await response.Content.ReadFromJsonAsync<ProviderView>();
        Assert.Equal(created!.Name, read!.Name);
        Assert.Equal(created.Regions, read.Regions);
        Assert.Equal(created.Website, read.Website);
        Assert.Equal(created.RefundPolicy, read.RefundPolicy);
        Assert.Equal(created.CreatedAt, read.CreatedAt);
    }

    [Fact]
    public async Task Onboarding_without_a_name_is_a_400_naming_the_field_and_writes_nothing()
    {
        var response = await OnboardAsync(provider, Profile(name: null));

        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("name", out _));
        Assert.Null(await RowAsync(provider.PublicKeyHex));
        Assert.Empty(await EventsForAsync(provider.PublicKeyHex));
    }

    [Fact]
    public async Task Onboarding_with_a_bad_email_website_and_no_regions_is_a_400_naming_each_field_and_writes_nothing()
    {
        var response = await OnboardAsync(provider, Profile() with { SupportEmail = "not an email", Website = "ftp://acme.example", Regions = [] });

        var errors = (await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("supportEmail", out _));
        Assert.True(errors.TryGetProperty("website", out _));
        Assert.True(errors.TryGetProperty("regions", out _));
        Assert.Null(await RowAsync(provider.PublicKeyHex));
    }

    [Fact]
    public async Task Unsigned_onboarding_is_a_401_and_writes_nothing()
    {
        var response = await app.Client.PostAsJsonAsync("api/v1/providers", Profile());

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Null(await RowAsync(provider.PublicKeyHex));
    }

    [Fact]
    public async Task Onboarding_with_a_bad_signature_is_a_401_and_writes_nothing()
    {
        var body = JsonSerializer.Serialize(Profile(), JsonSerializerOptions.Web);
        var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/providers") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        // Signed by the stranger, presented as the provider's key.
        var headers = RequestSigner.CreateHeaders(stranger, DateTimeOffset.UtcNow, Guid.NewGuid(), "POST", "/api/v1/providers", Encoding.UTF8.GetBytes(body));
        headers.ApplyTo(request.Headers);
        request.Headers.Remove(SignatureHeaders.PublicKeyHeader);
        request.Headers.Add(SignatureHeaders.PublicKeyHeader, provider.PublicKeyHex);

        var response = await app.Client.SendAsync(request);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Null(await RowAsync(provider.PublicKeyHex));
        Assert.Null(await RowAsync(stranger.PublicKeyHex));
    }

    [Fact]
    public async Task Onboarding_twice_is_a_409_and_changes_nothing_or_sends_a_second_event()
    {
        Assert.Equal(HttpStatusCode.Created, (await OnboardAsync(provider, Profile())).StatusCode);
        var before = await RowAsync(provider.PublicKeyHex);

        var response = await OnboardAsync(provider, Profile("Another Name"));

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Conflict);
        var after = await RowAsync(provider.PublicKeyHex);
        Assert.Equal(before!.ETag, after!.ETag);
        Assert.Equal("Acme Cloud", after.Name);
        Assert.Single(await EventsForAsync(provider.PublicKeyHex));
    }

    [Fact]
    public async Task When_the_event_cannot_be_sent_onboarding_is_a_503_and_sending_the_request_again_sends_it()
    {
        // Onboard one provider so the queue exists and the app's writer holds it, then remove it under the writer.
        Assert.Equal(HttpStatusCode.Created, (await OnboardAsync(stranger, Profile("First"))).StatusCode);
        await Chatwoot.DeleteAsync();

        var failed = await OnboardAsync(provider, Profile());

        await ApiAssert.ProblemAsync(failed, HttpStatusCode.ServiceUnavailable);
        var row = await RowAsync(provider.PublicKeyHex);
        Assert.NotNull(row);
        Assert.Null(row.OnboardedEventPublishedAt);
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 7001 && e.Level == LogLevel.Error);

        await Chatwoot.CreateAsync();
        var retry = await OnboardAsync(provider, Profile());

        await ApiAssert.ProblemAsync(retry, HttpStatusCode.Conflict);
        var message = Assert.Single(await EventsForAsync(provider.PublicKeyHex));
        Assert.Equal(row.OnboardedEventId, message.GetProperty("id").GetGuid());
        Assert.NotNull((await RowAsync(provider.PublicKeyHex))!.OnboardedEventPublishedAt);
    }

    [Fact]
    public async Task The_provider_updates_its_own_profile()
    {
        var created = await (await OnboardAsync(provider, Profile())).Content.ReadFromJsonAsync<ProviderView>();

        var response = await UpdateAsync(provider, provider.PublicKeyHex, Profile("Acme Cloud GmbH") with { Regions = ["us-east"] });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var read = await app.Client.GetFromJsonAsync<ProviderView>($"api/v1/providers/{provider.PublicKeyHex}");
        Assert.Equal("Acme Cloud GmbH", read!.Name);
        Assert.Equal(["us-east"], read.Regions);
        Assert.Equal(created!.CreatedAt, read.CreatedAt);
        Assert.True(read.UpdatedAt >= created.UpdatedAt);
        Assert.Single(await EventsForAsync(provider.PublicKeyHex));
    }

    [Fact]
    public async Task Another_key_cannot_update_the_profile_and_it_stays_unchanged()
    {
        Assert.Equal(HttpStatusCode.Created, (await OnboardAsync(provider, Profile())).StatusCode);
        var before = await RowAsync(provider.PublicKeyHex);

        var response = await UpdateAsync(stranger, provider.PublicKeyHex, Profile("Hijacked"));

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Forbidden);
        var after = await RowAsync(provider.PublicKeyHex);
        Assert.Equal(before!.ETag, after!.ETag);
        Assert.Equal("Acme Cloud", after.Name);
    }

    [Fact]
    public async Task An_invalid_update_is_a_400_and_the_profile_stays_unchanged()
    {
        Assert.Equal(HttpStatusCode.Created, (await OnboardAsync(provider, Profile())).StatusCode);
        var before = await RowAsync(provider.PublicKeyHex);

        var response = await UpdateAsync(provider, provider.PublicKeyHex, Profile(new string('n', 101)));

        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("name", out _));
        Assert.Equal(before!.ETag, (await RowAsync(provider.PublicKeyHex))!.ETag);
    }

    [Fact]
    public async Task Updating_a_provider_that_was_never_onboarded_is_a_404_and_writes_nothing()
    {
        var response = await UpdateAsync(provider, provider.PublicKeyHex, Profile());

        await ApiAssert.ProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Null(await RowAsync(provider.PublicKeyHex));
    }

    [Fact]
    public async Task Reading_an_unknown_provider_is_a_404_problem()
    {
        var response = await app.Client.GetAsync($"api/v1/providers/{Ed25519phKey.Generate().PublicKeyHex}");

        await ApiAssert.ProblemAsync(response, HttpStatusCode.NotFound);
    }

    /// <summary>The class's app, with the Chatwoot onboarding's trigger off: these tests are about the provider rows.</summary>
    public sealed class Fixture : AppFixture
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["AzureWebJobs.StartChatwootOnboarding.Disabled"] = "true" };
    }
}
