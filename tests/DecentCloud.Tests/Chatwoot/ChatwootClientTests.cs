using DecentCloud.Functions.Chatwoot.Api;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace DecentCloud.Tests.Chatwoot;

/// <summary>The Chatwoot client against the stand-in: requests the spec accepts, Chatwoot's real answers read, failures classified.</summary>
public sealed class ChatwootClientTests : IAsyncLifetime
{
    private readonly List<HttpClient> clients = [];
    private ChatwootStandIn? standIn;

    private ChatwootStandIn StandIn => standIn ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => standIn = await ChatwootStandIn.StartAsync();

    public async Task DisposeAsync()
    {
        clients.ForEach(c => c.Dispose());
        if (standIn is not null)
        {
            await standIn.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_api_inbox_is_created_with_its_webhook_and_answers_its_signing_secret()
    {
        var client = Client();

        var inbox = await client.CreateApiInboxAsync("Acme Support", new Uri("https://decent.example/chatwoot/inbox-events"), CancellationToken.None);

        var stored = Assert.Single(StandIn.Inboxes);
        Assert.Equal(new ChatwootInbox(stored.Id, "Acme Support", "Channel::Api", "https://decent.example/chatwoot/inbox-events", stored.Secret), inbox);
        var body = Assert.Single(StandIn.Requests).Json!;
        Assert.Equal("api", body["channel"]?["type"]?.GetValue<string>());
        Assert.Empty(StandIn.Violations);
    }

    [Fact]
    public async Task Inbox_names_are_not_unique_so_a_second_create_makes_a_second_inbox_and_the_list_shows_both()
    {
        var client = Client();
        var webhook = new Uri("https://decent.example/hook");

        var first = await client.CreateApiInboxAsync("Acme Support", webhook, CancellationToken.None);
        var second = await client.CreateApiInboxAsync("Acme Support", webhook, CancellationToken.None);
        var listed = await client.ListInboxesAsync(CancellationToken.None);

        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal([first, second], listed);
        Assert.Empty(StandIn.Violations);
    }

    [Fact]
    public void An_inbox_does_not_print_its_secret()
    {
        var inbox = new ChatwootInbox(7, "Acme Support", ChatwootInbox.ApiChannelType, null, "s3cr3t-hmac-key");

        Assert.DoesNotContain("s3cr3t-hmac-key", inbox.ToString(), StringComparison.Ordinal);
        Assert.Contains("Secret = ***", inbox.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_team_is_sent_nested_and_comes_back_lower_cased()
    {
        var client = Client();

        var team = await client.CreateTeamAsync("Acme Team", "Support for Acme's renters", CancellationToken.None);
        var listed = await client.ListTeamsAsync(CancellationToken.None);

        Assert.Equal("acme team", team.Name);
        Assert.Equal([team], listed);
        Assert.Equal("Acme Team", StandIn.Requests[0].Json?["team"]?["name"]?.GetValue<string>());
        Assert.Empty(StandIn.Violations);
    }

    [Fact]
    public async Task A_team_name_taken_in_any_case_is_a_422_that_says_taken_and_is_not_retryable()
    {
        var client = Client();
        await client.CreateTeamAsync("acme team", null, CancellationToken.None);

        var error = await Assert.ThrowsAsync<ChatwootException>(() => client.CreateTeamAsync("Acme Team", null, CancellationToken.None));

        Assert.Equal((422, false, "Name has already been taken"), (error.Status, error.IsRetryable, error.Error));
        Assert.True(error.IsTaken("name"));
        Assert.False(error.IsTaken("slug"));
        Assert.Equal("creating team 'Acme Team': Chatwoot answered HTTP 422: Name has already been taken", error.Message);
        Assert.Empty(StandIn.Violations);
    }

    [Fact]
    public async Task A_portal_comes_back_flat_and_the_list_reads_the_payload()
    {
        var client = Client();

        var portal = await client.CreatePortalAsync("Acme Help Center", "acme-1a2b3c4d", CancellationToken.None);
        var listed = await client.ListPortalsAsync(CancellationToken.None);

        Assert.Equal(new ChatwootPortal(Assert.Single(StandIn.Portals).Id, "acme-1a2b3c4d", "Acme Help Center"), portal);
        Assert.Equal([portal], listed);
        Assert.Empty(StandIn.Violations);
    }

    [Fact]
    public async Task A_portal_slug_taken_even_in_another_account_is_a_422_that_says_taken()
    {
        var client = Client();
        StandIn.AddForeignPortal("acme-1a2b3c4d");

        var error = await Assert.ThrowsAsync<ChatwootException>(() => client.CreatePortalAsync("Acme Help Center", "acme-1a2b3c4d", CancellationToken.None));

        Assert.True(error.IsTaken("slug"));
        Assert.False(error.IsRetryable);
        Assert.Empty(await client.ListPortalsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_category_is_read_from_its_payload_and_listed_by_locale()
    {
        var client = Client();
        await client.CreatePortalAsync("Acme Help Center", "acme-1a2b3c4d", CancellationToken.None);

        var category = await client.CreateCategoryAsync("acme-1a2b3c4d", "Billing", "billing", "en", CancellationToken.None);
        var english = await client.ListCategoriesAsync("acme-1a2b3c4d", "en", CancellationToken.None);
        var german = await client.ListCategoriesAsync("acme-1a2b3c4d", "de", CancellationToken.None);

        Assert.Equal(new ChatwootCategory(Assert.Single(StandIn.Categories).Id, "billing", "Billing", "en"), category);
        Assert.Equal([category], english);
        Assert.Empty(german);
        Assert.Equal("?locale=en", StandIn.Requests[2].Query);
        Assert.Empty(StandIn.Violations);
    }

    [Fact]
    public async Task A_category_slug_repeated_in_a_locale_is_a_422_about_the_locale_not_taken()
    {
        var client = Client();
        await client.CreatePortalAsync("Acme Help Center", "acme-1a2b3c4d", CancellationToken.None);
        await client.CreateCategoryAsync("acme-1a2b3c4d", "Billing", "billing", "en", CancellationToken.None);

        var error = await Assert.ThrowsAsync<ChatwootException>(() => client.CreateCategoryAsync("acme-1a2b3c4d", "Billing", "billing", "en", CancellationToken.None));

        Assert.Equal((422, "Locale should be unique in the category and portal"), (error.Status, error.Error));
        Assert.False(error.IsTaken("slug"));
    }

    [Fact]
    public async Task A_category_of_an_unknown_portal_is_a_404_and_not_retryable()
    {
        var error = await Assert.ThrowsAsync<ChatwootException>(() => Client().ListCategoriesAsync("nobody", "en", CancellationToken.None));

        Assert.Equal((404, false, "Resource could not be found"), (error.Status, error.IsRetryable, error.Error));
    }

    [Fact]
    public async Task A_team_routing_rule_assigns_new_conversations_of_the_inbox_to_the_team()
    {
        var client = Client();
        var inbox = await client.CreateApiInboxAsync("Acme Support", new Uri("https://decent.example/hook"), CancellationToken.None);
        var team = await client.CreateTeamAsync("Acme Team", null, CancellationToken.None);

        var rule = await client.CreateTeamRoutingRuleAsync("Acme routing", inbox.Id, team.Id, CancellationToken.None);
        var listed = await client.ListAutomationRulesAsync(CancellationToken.None);

        var stored = Assert.Single(StandIn.AutomationRules);
        Assert.Equal(new ChatwootAutomationRule(stored.Id, "Acme routing"), rule);
        Assert.Equal([rule], listed);
        Assert.Equal(("conversation_created", true), (stored.EventName, stored.Active));
        var condition = Assert.Single(stored.Conditions)!;
        Assert.Equal(("inbox_id", "equal_to", inbox.Id), (condition["attribute_key"]?.GetValue<string>(), condition["filter_operator"]?.GetValue<string>(), condition["values"]?[0]?.GetValue<long>()));
        var action = Assert.Single(stored.Actions)!;
        Assert.Equal(("assign_team", team.Id), (action["action_name"]?.GetValue<string>(), action["action_params"]?[0]?.GetValue<long>()));
        Assert.Empty(StandIn.Violations);
    }

    [Fact]
    public async Task A_platform_user_is_created_with_the_platform_token_and_the_same_email_answers_the_same_user()
    {
        var client = Client();

        var user = await client.CreatePlatformUserAsync("Ann Agent", "ann@acme.example", "Secret-123", CancellationToken.None);
        var again = await client.CreatePlatformUserAsync("Ann A.", "ANN@acme.example", "Other-456", CancellationToken.None);

        Assert.Equal(new ChatwootUser(user.Id, "Ann Agent", "ann@acme.example"), user);
        Assert.Equal(user, again);
        Assert.All(StandIn.Requests, r => Assert.Equal(ChatwootTokenKind.Platform, r.Token));
        Assert.Empty(StandIn.Violations);
    }

    [Fact]
    public async Task A_weak_password_is_a_422_naming_the_password()
    {
        var error = await Assert.ThrowsAsync<ChatwootException>(() => Client().CreatePlatformUserAsync("Ann Agent", "ann@acme.example", "password", CancellationToken.None));

        Assert.Equal((422, false), (error.Status, error.IsRetryable));
        Assert.Equal(["password"], error.Attributes);
    }

    [Fact]
    public async Task A_user_added_to_the_account_as_agent_is_listed_among_the_agents()
    {
        var client = Client();
        var user = await client.CreatePlatformUserAsync("Ann Agent", "ann@acme.example", "Secret-123", CancellationToken.None);

        await client.AddAccountUserAsync(user.Id, ChatwootRoles.Agent, CancellationToken.None);
        await client.AddAccountUserAsync(user.Id, ChatwootRoles.Agent, CancellationToken.None);
        var agents = await client.ListAgentsAsync(CancellationToken.None);

        Assert.Equal(
            [new ChatwootAgent(ChatwootStandIn.AdminUserId, "Ada Admin", "admin@chatwoot.test", "administrator"), new ChatwootAgent(user.Id, "Ann Agent", "ann@acme.example", "agent")],
            agents);
        Assert.Equal("/platform/api/v1/accounts/1/account_users", StandIn.Requests[1].Path);
        Assert.Equal(user.Id, StandIn.Requests[1].Json?["user_id"]?.GetValue<long>());
        Assert.Empty(StandIn.Violations);
    }

    [Fact]
    public async Task An_account_the_platform_app_may_not_touch_is_a_401_that_is_not_retryable()
    {
        var client = Client();
        var user = await client.CreatePlatformUserAsync("Ann Agent", "ann@acme.example", "Secret-123", CancellationToken.None);
        StandIn.PlatformAppOwnsAccount = false;

        var error = await Assert.ThrowsAsync<ChatwootException>(() => client.AddAccountUserAsync(user.Id, ChatwootRoles.Agent, CancellationToken.None));

        Assert.Equal((401, false, "Non permissible resource"), (error.Status, error.IsRetryable, error.Error));
    }

    [Fact]
    public async Task Team_members_are_added_once_as_integers_and_a_repeat_adds_nobody()
    {
        var client = Client();
        var ann = StandIn.AddAgent("Ann Agent", "ann@acme.example");
        var bob = StandIn.AddAgent("Bob Agent", "bob@acme.example");
        var team = await client.CreateTeamAsync("Acme Team", null, CancellationToken.None);

        var added = await client.AddTeamMembersAsync(team.Id, [ann.Id, bob.Id], CancellationToken.None);
        var repeated = await client.AddTeamMembersAsync(team.Id, [ann.Id], CancellationToken.None);
        var members = await client.ListTeamMembersAsync(team.Id, CancellationToken.None);

        Assert.Equal([ann.Id, bob.Id], added.Select(a => a.Id));
        Assert.Empty(repeated);
        Assert.Equal([ann.Id, bob.Id], members.Select(m => m.Id));
        Assert.Equal("[" + ann.Id + "," + bob.Id + "]", StandIn.Requests[1].Json?["user_ids"]?.ToJsonString());
        Assert.Empty(StandIn.Violations);
    }

    [Fact]
    public async Task Team_members_are_removed()
    {
        var client = Client();
        var ann = StandIn.AddAgent("Ann Agent", "ann@acme.example");
        var team = await client.CreateTeamAsync("Acme Team", null, CancellationToken.None);
        await client.AddTeamMembersAsync(team.Id, [ann.Id], CancellationToken.None);

        await client.RemoveTeamMembersAsync(team.Id, [ann.Id], CancellationToken.None);

        Assert.Empty(await client.ListTeamMembersAsync(team.Id, CancellationToken.None));
        Assert.Empty(StandIn.Violations);
    }

    [Fact]
    public async Task A_team_member_who_is_not_in_the_account_is_chatwoots_401_invalid_user_ids()
    {
        var client = Client();
        var outsider = StandIn.AddUserOutsideAccount("Olga Outside", "olga@elsewhere.example");
        var team = await client.CreateTeamAsync("Acme Team", null, CancellationToken.None);

        var error = await Assert.ThrowsAsync<ChatwootException>(() => client.AddTeamMembersAsync(team.Id, [outsider.Id], CancellationToken.None));

        Assert.Equal((401, false, "Invalid User IDs"), (error.Status, error.IsRetryable, error.Error));
    }

    [Fact]
    public async Task Members_of_an_unknown_team_are_a_404()
    {
        var error = await Assert.ThrowsAsync<ChatwootException>(() => Client().ListTeamMembersAsync(424242, CancellationToken.None));

        Assert.Equal((404, false), (error.Status, error.IsRetryable));
    }

    [Fact]
    public async Task Inbox_members_are_added_listed_and_removed_from_their_payloads()
    {
        var client = Client();
        var ann = StandIn.AddAgent("Ann Agent", "ann@acme.example");
        var bob = StandIn.AddAgent("Bob Agent", "bob@acme.example");
        var inbox = await client.CreateApiInboxAsync("Acme Support", new Uri("https://decent.example/hook"), CancellationToken.None);

        var afterAnn = await client.AddInboxMembersAsync(inbox.Id, [ann.Id], CancellationToken.None);
        var afterBob = await client.AddInboxMembersAsync(inbox.Id, [ann.Id, bob.Id], CancellationToken.None);
        await client.RemoveInboxMembersAsync(inbox.Id, [ann.Id], CancellationToken.None);
        var left = await client.ListInboxMembersAsync(inbox.Id, CancellationToken.None);

        Assert.Equal([ann.Id], afterAnn.Select(a => a.Id));
        Assert.Equal([ann.Id, bob.Id], afterBob.Select(a => a.Id));
        Assert.Equal([new ChatwootAgent(bob.Id, "Bob Agent", "bob@acme.example", "agent")], left);
        Assert.Empty(StandIn.Violations);
    }

    [Fact]
    public async Task No_user_ids_sends_nothing()
    {
        var client = Client();

        Assert.Empty(await client.AddTeamMembersAsync(2001, [], CancellationToken.None));
        await client.RemoveTeamMembersAsync(2001, [], CancellationToken.None);
        await client.RemoveInboxMembersAsync(1001, [], CancellationToken.None);

        Assert.Empty(StandIn.Requests);
    }

    [Theory]
    [InlineData(429, "Retry later")]
    [InlineData(500, null)]
    [InlineData(502, null)]
    [InlineData(503, null)]
    public async Task Rate_limits_and_server_errors_are_retryable(int status, string? error)
    {
        StandIn.FailNext("/api/v1/accounts/1/teams", status);

        var failure = await Assert.ThrowsAsync<ChatwootException>(() => Client().CreateTeamAsync("Acme Team", null, CancellationToken.None));

        Assert.Equal((status, true, error), (failure.Status, failure.IsRetryable, failure.Error));
        Assert.Empty(StandIn.Teams);
    }

    [Fact]
    public async Task A_dropped_connection_is_retryable_and_keeps_the_cause()
    {
        StandIn.FailNext("/api/v1/accounts/1/teams", 0);

        var failure = await Assert.ThrowsAsync<ChatwootException>(() => Client().ListTeamsAsync(CancellationToken.None));

        Assert.Equal((null, true, "connection failed"), (failure.Status, failure.IsRetryable, failure.Error));
        Assert.IsType<HttpRequestException>(failure.InnerException);
    }

    [Fact]
    public async Task A_call_slower_than_the_timeout_is_retryable()
    {
        StandIn.DelayNext("/api/v1/accounts/1/teams", TimeSpan.FromSeconds(5));

        var failure = await Assert.ThrowsAsync<ChatwootException>(() => Client(timeout: TimeSpan.FromMilliseconds(300)).ListTeamsAsync(CancellationToken.None));

        Assert.Equal((null, true, "timed out"), (failure.Status, failure.IsRetryable, failure.Error));
        Assert.IsAssignableFrom<OperationCanceledException>(failure.InnerException);
    }

    [Fact]
    public async Task The_callers_own_cancellation_is_not_turned_into_a_chatwoot_failure()
    {
        StandIn.DelayNext("/api/v1/accounts/1/teams", TimeSpan.FromSeconds(5));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Client().ListTeamsAsync(cancel.Token));
    }

    [Theory]
    [InlineData(401)]
    [InlineData(402)]
    [InlineData(404)]
    [InlineData(409)]
    [InlineData(422)]
    public async Task Refusals_are_not_retryable(int status)
    {
        StandIn.FailNext("/api/v1/accounts/1/teams", status);

        var failure = await Assert.ThrowsAsync<ChatwootException>(() => Client().ListTeamsAsync(CancellationToken.None));

        Assert.Equal((status, false), (failure.Status, failure.IsRetryable));
    }

    [Fact]
    public async Task A_success_whose_answer_is_not_chatwoots_shape_is_not_retryable()
    {
        StandIn.FailNext("/api/v1/accounts/1/teams", 200);

        var failure = await Assert.ThrowsAsync<ChatwootException>(() => Client().CreateTeamAsync("Acme Team", null, CancellationToken.None));

        Assert.Equal((200, false), (failure.Status, failure.IsRetryable));
        Assert.Contains("not in the expected shape", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_role_chatwoot_does_not_have_is_refused_before_sending()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Client().AddAccountUserAsync(11, "owner", CancellationToken.None));

        Assert.Empty(StandIn.Requests);
    }

    [Theory]
    [InlineData("""{"message":"Slug has already been taken, Custom domain has already been taken","attributes":["slug","custom_domain"]}""", "application/json",
        "Slug has already been taken, Custom domain has already been taken", "slug,custom_domain")]
    [InlineData("""{"error":"Invalid User IDs"}""", "application/json", "Invalid User IDs", "")]
    [InlineData("""{"error":{"conditions":["Automation conditions foo not supported."]}}""", "application/json", "conditions: Automation conditions foo not supported.", "conditions")]
    [InlineData("Retry later\n", "text/plain", "Retry later", "")]
    [InlineData("<!DOCTYPE html><html><body>We're sorry</body></html>", "text/html", null, "")]
    [InlineData("", null, null, "")]
    public void Chatwoots_error_bodies_are_read_in_each_of_their_shapes(string body, string? mediaType, string? error, string attributes)
    {
        var (read, fields) = ChatwootClient.ReadError(body, mediaType);

        Assert.Equal(error, read);
        Assert.Equal(attributes, string.Join(",", fields));
    }

    [Fact]
    public void Taken_means_a_422_naming_the_field_and_saying_so()
    {
        var both = new ChatwootException("creating portal 'acme'", 422, "Slug has already been taken, Custom domain has already been taken", ["slug", "custom_domain"], false, null);
        var blank = new ChatwootException("creating portal 'acme'", 422, "Slug can't be blank", ["slug"], false, null);
        var server = new ChatwootException("creating portal 'acme'", 500, "Slug has already been taken", ["slug"], true, null);

        Assert.True(both.IsTaken("slug") && both.IsTaken("custom_domain"));
        Assert.False(both.IsTaken("name"));
        Assert.False(blank.IsTaken("slug"));
        Assert.False(server.IsTaken("slug"));
    }

    [Fact]
    public async Task A_revoked_token_is_a_401_whose_message_does_not_contain_the_token()
    {
        var failure = await Assert.ThrowsAsync<ChatwootException>(() => Client(o => o.ApiToken = "cw-revoked-token-abc123").ListTeamsAsync(CancellationToken.None));

        Assert.Equal((401, false, "Invalid Access Token"), (failure.Status, failure.IsRetryable, failure.Error));
        Assert.DoesNotContain("cw-revoked-token-abc123", failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_failure_message_contains_a_token()
    {
        var client = Client();
        var failures = new List<ChatwootException>();
        foreach (var status in new[] { 0, 401, 404, 422, 429, 500 })
        {
            StandIn.FailNext("/api/v1/accounts/1/teams", status);
            failures.Add(await Assert.ThrowsAsync<ChatwootException>(() => client.CreateTeamAsync("Acme Team", null, CancellationToken.None)));
        }

        StandIn.FailNext("/platform/api/v1/users", 500);
        failures.Add(await Assert.ThrowsAsync<ChatwootException>(() => client.CreatePlatformUserAsync("Ann", "ann@acme.example", "Secret-123", CancellationToken.None)));

        Assert.All(failures, f =>
        {
            Assert.DoesNotContain(ChatwootStandIn.AdminToken, f.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(ChatwootStandIn.PlatformToken, f.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("Secret-123", f.ToString(), StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task An_empty_token_setting_fails_at_once_naming_the_setting_and_sends_nothing()
    {
        var userCall = await Assert.ThrowsAsync<ChatwootException>(() => Client(o => o.ApiToken = null).ListTeamsAsync(CancellationToken.None));
        var platformCall = await Assert.ThrowsAsync<ChatwootException>(() => Client(o => o.PlatformToken = " ").AddAccountUserAsync(11, ChatwootRoles.Agent, CancellationToken.None));

        Assert.Equal(("listing teams: the setting CHATWOOT_API_TOKEN is empty", false), (userCall.Message, userCall.IsRetryable));
        Assert.Contains("CHATWOOT_PLATFORM_TOKEN", platformCall.Message, StringComparison.Ordinal);
        Assert.Empty(StandIn.Requests);
    }

    [Fact]
    public async Task The_client_from_the_service_registration_reaches_chatwoot_with_the_settings()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(StandIn.Settings()).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging().AddChatwootClient();
        await using var provider = services.BuildServiceProvider();

        var team = await provider.GetRequiredService<ChatwootClient>().CreateTeamAsync("Acme Team", null, CancellationToken.None);

        Assert.Equal("acme team", team.Name);
        Assert.Empty(StandIn.Violations);
    }

    [Fact]
    public void The_settings_default_to_a_local_chatwoot_and_need_no_tokens_at_start_up()
    {
        var options = Resolve(new Dictionary<string, string?>());

        Assert.Equal((new Uri("http://127.0.0.1:3000"), 1, TimeSpan.FromSeconds(15), null, null),
            (options.BaseUrl, options.AccountId, options.Timeout, options.ApiToken, options.PlatformToken));
    }

    [Theory]
    [InlineData(ChatwootOptions.BaseUrlSetting, "chat.example.org")]
    [InlineData(ChatwootOptions.BaseUrlSetting, "ftp://chat.example.org")]
    [InlineData(ChatwootOptions.AccountIdSetting, "0")]
    [InlineData(ChatwootOptions.TimeoutSetting, "0")]
    public void A_bad_setting_stops_start_up_with_its_name(string setting, string value)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(new Dictionary<string, string?> { [setting] = value }));

        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Acme Cloud GmbH", "1A2B3C4D5E6F", "acme-cloud-gmbh-1a2b3c4d")]
    [InlineData("  --Foo!!  Bar__Baz-- ", "deadbeef", "foo-bar-baz-deadbeef")]
    [InlineData("Müller Straße Rechenzentrum", "0123456789abcdef", "muller-strasse-rechenzentrum-01234567")]
    [InlineData("Облако", "0123456789abcdef", "provider-01234567")]
    [InlineData("!!!", "0123456789abcdef", "provider-01234567")]
    [InlineData("", "0123456789abcdef", "provider-01234567")]
    [InlineData("A Very Long Provider Name That Goes On And On Forever", "0123456789abcdef", "a-very-long-provider-name-that-goes-on-a-01234567")]
    [InlineData("abcdefghij abcdefghij abcdefghij abcdef xyz", "0123456789abcdef", "abcdefghij-abcdefghij-abcdefghij-abcdef-01234567")]
    public void A_portal_slug_is_the_name_in_url_form_cut_to_40_plus_the_key_prefix(string name, string key, string slug)
    {
        var made = ChatwootSlug.For(name, key);

        Assert.Equal(slug, made);
        Assert.Matches("^[a-z0-9]+(-[a-z0-9]+)*$", made);
        Assert.True(made.Length <= ChatwootSlug.MaxNameLength + 1 + ChatwootSlug.KeySuffixLength);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1234567")]
    [InlineData("xyz12345")]
    public void A_key_without_8_hex_characters_is_refused(string key) =>
        Assert.Throws<ArgumentException>(() => ChatwootSlug.For("Acme", key));

    private static ChatwootOptions Resolve(IDictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var provider = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging().AddChatwootClient().BuildServiceProvider();
        return provider.GetRequiredService<IOptions<ChatwootOptions>>().Value;
    }

    private ChatwootClient Client(Action<ChatwootOptions>? change = null, TimeSpan? timeout = null)
    {
        var options = StandIn.Options();
        change?.Invoke(options);
        var http = new HttpClient { BaseAddress = StandIn.BaseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(10) };
        clients.Add(http);
        return new ChatwootClient(http, Microsoft.Extensions.Options.Options.Create(options), NullLogger<ChatwootClient>.Instance);
    }
}
