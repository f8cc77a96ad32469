using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using DecentCloud.Testing;

namespace DecentCloud.Tests.Chatwoot;

/// <summary>The stand-in itself: it is Chatwoot's contract, so it must refuse what Chatwoot's spec does not allow.</summary>
public sealed class ChatwootStandInTests : IAsyncLifetime
{
    private const string Teams = "/api/v1/accounts/1/teams";

    private ChatwootStandIn? standIn;

    private ChatwootStandIn StandIn => standIn ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => standIn = await ChatwootStandIn.StartAsync();

    public async Task DisposeAsync()
    {
        if (standIn is not null)
        {
            await standIn.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("swagger.json")]
    [InlineData("LICENSE")]
    [InlineData("SOURCE.md")]
    public void The_contract_kept_with_the_tests_is_the_published_one(string file)
    {
        var copy = Path.Combine(RepositoryRoot.Path, "tests", "DecentCloud.Tests", "Contracts", "chatwoot", file);
        var published = Path.GetFullPath(Path.Combine(RepositoryRoot.Path, "..", "shared", "contracts", "chatwoot", file));

        Assert.True(File.Exists(copy), $"{copy} is missing");
        // CI runs with the project's shared/ folder beside the checkout; a lone clone has only the copy.
        if (File.Exists(published))
        {
            Assert.Equal(File.ReadAllText(published), File.ReadAllText(copy));
        }
    }

    [Fact]
    public void The_spec_is_chatwoots_own_file_by_its_git_blob_id()
    {
        // SOURCE.md: upstream swagger/swagger.json at f66b551c is blob b21742b4…; git hashes "blob {length}\0" + content.
        var content = File.ReadAllBytes(ChatwootContract.SpecPath);
#pragma warning disable CA5350 // Git names a blob by its SHA-1; this checks identity, not secrecy.
        var blob = SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {content.Length}\0"), .. content]);
#pragma warning restore CA5350

        Assert.Equal("b21742b4e9bdcd703770f659d30c03e9940e8331", Convert.ToHexStringLower(blob));
        Assert.Equal("1.1.0", StandIn.Contract.Version);
    }

    [Fact]
    public void The_contract_matches_templates_and_prefers_literal_segments()
    {
        var members = StandIn.Contract.Find("POST", "/api/v1/accounts/1/teams/2001/team_members");
        var search = StandIn.Contract.Find("GET", "/api/v1/accounts/1/contacts/search");

        Assert.Equal("POST /api/v1/accounts/{account_id}/teams/{team_id}/team_members", members?.Key);
        Assert.Equal("2001", members?.Values["team_id"]);
        Assert.Equal("GET /api/v1/accounts/{account_id}/contacts/search", search?.Key);
        Assert.Null(StandIn.Contract.Find("POST", "/api/v1/accounts/one/teams"));
        Assert.Equal([ChatwootTokenKind.Platform], StandIn.Contract.Find("POST", "/platform/api/v1/users")?.Tokens);
    }

    [Fact]
    public async Task An_unknown_path_is_a_violation_answered_400()
    {
        using var response = await SendAsync(HttpMethod.Get, "/api/v1/accounts/1/helpdesks", ChatwootStandIn.AdminToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("is not an operation in swagger.json", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("/api/v1/accounts/1/helpdesks", Assert.Single(StandIn.Violations).Path);
    }

    [Fact]
    public async Task A_method_the_path_does_not_have_is_a_violation()
    {
        using var response = await SendAsync(HttpMethod.Put, Teams, ChatwootStandIn.AdminToken, """{"team":{"name":"x"}}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("PUT is not an operation of", Assert.Single(StandIn.Violations).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_without_a_token_is_a_violation_answered_401_as_chatwoot_does()
    {
        using var response = await SendAsync(HttpMethod.Get, Teams, token: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Invalid Access Token", (await JsonAsync(response))["error"]?.GetValue<string>());
        Assert.Contains("no api_access_token header", Assert.Single(StandIn.Violations).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_token_is_401_but_not_a_violation()
    {
        using var response = await SendAsync(HttpMethod.Get, Teams, "revoked-token");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(ChatwootTokenKind.Unknown, Assert.Single(StandIn.Requests).Token);
        Assert.Empty(StandIn.Violations);
    }

    [Fact]
    public async Task The_platform_token_on_an_account_api_is_a_violation_answered_401()
    {
        using var response = await SendAsync(HttpMethod.Get, Teams, ChatwootStandIn.PlatformToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("a Platform token on GET /api/v1/accounts/{account_id}/teams", Assert.Single(StandIn.Violations).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_user_token_on_the_platform_api_is_a_violation_answered_401()
    {
        using var response = await SendAsync(HttpMethod.Post, "/platform/api/v1/users", ChatwootStandIn.AdminToken,
            """{"name":"Ann","email":"ann@example.org","password":"Secret-123"}""");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Invalid access_token", (await JsonAsync(response))["error"]?.GetValue<string>());
        Assert.Single(StandIn.Violations);
        Assert.DoesNotContain(StandIn.Users, u => u.Email == "ann@example.org");
    }

    [Fact]
    public async Task A_missing_required_field_is_a_violation_and_changes_nothing()
    {
        using var team = await SendAsync(HttpMethod.Post, Teams, ChatwootStandIn.AdminToken, """{"team":{"name":"Acme"}}""");
        var teamId = (await JsonAsync(team))["id"]!.GetValue<long>();

        using var response = await SendAsync(HttpMethod.Post, $"{Teams}/{teamId}/team_members", ChatwootStandIn.AdminToken, """{"users":[1]}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = Assert.Single(StandIn.Violations).Problem;
        Assert.Contains("the required field 'user_ids' is missing", problem, StringComparison.Ordinal);
        Assert.Contains("body.users: not a field of this request in the spec", problem, StringComparison.Ordinal);
        Assert.Empty(StandIn.TeamMembers[teamId]);
    }

    [Fact]
    public async Task User_ids_as_strings_are_a_violation()
    {
        using var team = await SendAsync(HttpMethod.Post, Teams, ChatwootStandIn.AdminToken, """{"team":{"name":"Acme"}}""");
        var teamId = (await JsonAsync(team))["id"]!.GetValue<long>();

        using var response = await SendAsync(HttpMethod.Post, $"{Teams}/{teamId}/team_members", ChatwootStandIn.AdminToken, """{"user_ids":["1"]}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("body.user_ids[0]: string \"1\" where the spec says integer", Assert.Single(StandIn.Violations).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_a_violation()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Teams) { Content = new StringContent("name=acme", Encoding.UTF8, "application/x-www-form-urlencoded") };
        request.Headers.Add("api_access_token", ChatwootStandIn.AdminToken);

        using var http = Http();
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("is not application/json", Assert.Single(StandIn.Violations).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrapping_controller_takes_the_flat_and_the_nested_body_but_not_keys_beside_the_wrapper()
    {
        using var flat = await SendAsync(HttpMethod.Post, Teams, ChatwootStandIn.AdminToken, """{"name":"Flat"}""");
        using var nested = await SendAsync(HttpMethod.Post, Teams, ChatwootStandIn.AdminToken, """{"team":{"name":"Nested"}}""");
        Assert.Empty(StandIn.Violations);

        using var beside = await SendAsync(HttpMethod.Post, Teams, ChatwootStandIn.AdminToken, """{"team":{"name":"Third"},"description":"lost"}""");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.BadRequest), (flat.StatusCode, nested.StatusCode, beside.StatusCode));
        Assert.Equal(["flat", "nested"], StandIn.Teams.Select(t => t.Name));
        Assert.Contains("'description' is outside the 'team' wrapper", Assert.Single(StandIn.Violations).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_inbox_channel_is_checked_against_the_schema_its_type_names()
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/v1/accounts/1/inboxes", ChatwootStandIn.AdminToken,
            """{"name":"Support","channel":{"type":"api","webhook":"https://example.org/hook"}}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("body.channel.webhook: not a field", Assert.Single(StandIn.Violations).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_category_list_endpoint_the_spec_leaves_out_is_taken_from_endpoints_md()
    {
        using var portal = await SendAsync(HttpMethod.Post, "/api/v1/accounts/1/portals", ChatwootStandIn.AdminToken, """{"portal":{"name":"Help","slug":"help"}}""");

        using var response = await SendAsync(HttpMethod.Get, "/api/v1/accounts/1/portals/help/categories?locale=en", ChatwootStandIn.AdminToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, (await JsonAsync(response))["meta"]?["categories_count"]?.GetValue<int>());
        Assert.Empty(StandIn.Violations);
    }

    [Fact]
    public async Task An_agent_calling_an_administrator_action_gets_chatwoots_401_not_the_specs_403()
    {
        var agent = StandIn.AddAgent("Ann Agent", "ann@example.org");

        using var response = await SendAsync(HttpMethod.Post, Teams, agent.AccessToken, """{"team":{"name":"Acme"}}""");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("You are not authorized to do this action", (await JsonAsync(response))["error"]?.GetValue<string>());
        Assert.Empty(StandIn.Teams);
        Assert.Empty(StandIn.Violations);
    }

    [Fact]
    public async Task Another_account_is_401_for_the_user()
    {
        using var response = await SendAsync(HttpMethod.Get, "/api/v1/accounts/2/teams", ChatwootStandIn.AdminToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("You are not authorized to access this account", (await JsonAsync(response))["error"]?.GetValue<string>());
    }

    [Fact]
    public async Task A_rate_limited_request_gets_plain_retry_later_without_retry_after_and_changes_nothing()
    {
        StandIn.FailNext("POST /api/v1/accounts/{account_id}/teams", 429);

        using var limited = await SendAsync(HttpMethod.Post, Teams, ChatwootStandIn.AdminToken, """{"team":{"name":"Acme"}}""");
        using var next = await SendAsync(HttpMethod.Post, Teams, ChatwootStandIn.AdminToken, """{"team":{"name":"Acme"}}""");

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("Retry later\n", await limited.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", limited.Content.Headers.ContentType?.MediaType);
        Assert.Null(limited.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Single(StandIn.Teams);
    }

    [Fact]
    public async Task A_failure_after_applying_loses_only_the_answer()
    {
        StandIn.FailNext(Teams, 500, afterApplying: true);

        using var response = await SendAsync(HttpMethod.Post, Teams, ChatwootStandIn.AdminToken, """{"team":{"name":"Acme"}}""");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("acme", Assert.Single(StandIn.Teams).Name);
    }

    [Fact]
    public async Task Every_request_is_recorded_with_its_operation_token_kind_and_body()
    {
        using var response = await SendAsync(HttpMethod.Post, Teams, ChatwootStandIn.AdminToken, """{"team":{"name":"Acme"}}""");

        var request = Assert.Single(StandIn.Requests);
        Assert.Equal(("POST", Teams, "POST /api/v1/accounts/{account_id}/teams", ChatwootTokenKind.User, 200), (request.Method, request.Path, request.Operation, request.Token, request.Status));
        Assert.Equal("Acme", request.Json?["team"]?["name"]?.GetValue<string>());
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Add("api_access_token", token);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var http = Http();
        return await http.SendAsync(request);
    }

    private HttpClient Http() => new() { BaseAddress = StandIn.BaseAddress };

    private static async Task<JsonNode> JsonAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync()) ?? throw new InvalidOperationException("empty body");
}
