using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Chatwoot.Api;

/// <summary>
/// The Chatwoot REST calls provider onboarding needs, in the account of <see cref="ChatwootOptions.AccountId"/>. The base
/// address and the per-call timeout are set by <see cref="ChatwootServices.AddChatwootClient"/>.
/// </summary>
/// <remarks>
/// Written against Chatwoot 4.15 as docs/chatwoot.md ("Chatwoot's API as the code relies on it") describes it, which is not always what its
/// swagger.json says: creates answer 200; a portal comes back flat, a created category as <c>{payload:…}</c>; inbox and
/// inbox-member lists are <c>{payload:[…]}</c> while teams, agents and team members are plain arrays; validation errors
/// are <c>{message, attributes}</c>; role failures are 401, not 403. Every answer is read through
/// <see cref="Unwrap"/>, so an installation that wraps one answer more or less than another still reads.
/// The header <c>api_access_token</c> carries the administrator's user token for <c>/api/v1/accounts/…</c> and the
/// Platform App token for <c>/platform/api/v1/…</c>. User ids go out as JSON integers, because Chatwoot's
/// "already a member" checks compare integers (strings would add a member twice).
/// Nothing here retries: the calling orchestration owns retries and back-off (a 429 comes as plain text <c>Retry later</c>
/// with no Retry-After), and <see cref="ChatwootException.IsRetryable"/> tells it which failures to retry.
/// </remarks>
public sealed partial class ChatwootClient(HttpClient http, IOptions<ChatwootOptions> options, ILogger<ChatwootClient> logger)
{
    public const string TokenHeader = "api_access_token";

    private enum TokenKind
    {
        User,
        Platform,
    }

    private ChatwootOptions Settings => options.Value;

    private string AccountPath => "api/v1/accounts/" + Settings.AccountId.ToString(CultureInfo.InvariantCulture);

    public async Task<IReadOnlyList<ChatwootInbox>> ListInboxesAsync(CancellationToken cancellationToken) =>
        await CallAsync(HttpMethod.Get, $"{AccountPath}/inboxes", null, TokenKind.User, "listing inboxes",
            root => Items(root).Select(ReadInbox).ToList(), cancellationToken);

    /// <summary>An API-channel inbox posting its events to <paramref name="webhookUrl"/>; the answer carries the signing <c>secret</c>.</summary>
    /// <remarks>Not idempotent: inbox names are not unique, so a repeated call makes a second inbox. List first.</remarks>
    public async Task<ChatwootInbox> CreateApiInboxAsync(string name, Uri webhookUrl, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(webhookUrl);
        if (!webhookUrl.IsAbsoluteUri)
        {
            throw new ArgumentException("The webhook URL must be absolute.", nameof(webhookUrl));
        }

        var body = new JsonObject
        {
            ["name"] = name,
            ["channel"] = new JsonObject { ["type"] = "api", ["webhook_url"] = webhookUrl.AbsoluteUri },
        };
        var inbox = await CallAsync(HttpMethod.Post, $"{AccountPath}/inboxes", body, TokenKind.User, $"creating API inbox '{name}'",
            root => ReadInbox(Single(root)), cancellationToken);
        LogCreated(logger, "inbox", inbox.Id, inbox.Name);
        return inbox;
    }

    public async Task<IReadOnlyList<ChatwootTeam>> ListTeamsAsync(CancellationToken cancellationToken) =>
        await CallAsync(HttpMethod.Get, $"{AccountPath}/teams", null, TokenKind.User, "listing teams",
            root => Items(root).Select(ReadTeam).ToList(), cancellationToken);

    /// <summary>A team; Chatwoot lower-cases the name, and a name already used in the account is a 422 with <c>IsTaken("name")</c>.</summary>
    public async Task<ChatwootTeam> CreateTeamAsync(string name, string? description, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var team = new JsonObject { ["name"] = name };
        if (description is not null)
        {
            team["description"] = description;
        }

        var created = await CallAsync(HttpMethod.Post, $"{AccountPath}/teams", new JsonObject { ["team"] = team }, TokenKind.User, $"creating team '{name}'",
            root => ReadTeam(Single(root)), cancellationToken);
        LogCreated(logger, "team", created.Id, created.Name);
        return created;
    }

    public async Task<IReadOnlyList<ChatwootPortal>> ListPortalsAsync(CancellationToken cancellationToken) =>
        await CallAsync(HttpMethod.Get, $"{AccountPath}/portals", null, TokenKind.User, "listing portals",
            root => Items(root).Select(ReadPortal).ToList(), cancellationToken);

    /// <summary>
    /// A Help Center portal. The slug is unique across the whole installation (other accounts included), so a slug in
    /// use anywhere is a 422 with <c>IsTaken("slug")</c> even when <see cref="ListPortalsAsync"/> does not show it.
    /// </summary>
    public async Task<ChatwootPortal> CreatePortalAsync(string name, string slug, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(slug);
        var body = new JsonObject { ["portal"] = new JsonObject { ["name"] = name, ["slug"] = slug } };
        var portal = await CallAsync(HttpMethod.Post, $"{AccountPath}/portals", body, TokenKind.User, $"creating portal '{slug}'",
            root => ReadPortal(Single(root)), cancellationToken);
        LogCreated(logger, "portal", portal.Id, portal.Slug);
        return portal;
    }

    /// <summary>The portal's categories in <paramref name="locale"/> (one page: Chatwoot serves up to 1000).</summary>
    public async Task<IReadOnlyList<ChatwootCategory>> ListCategoriesAsync(string portalSlug, string locale, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(portalSlug);
        ArgumentException.ThrowIfNullOrWhiteSpace(locale);
        return await CallAsync(HttpMethod.Get, $"{PortalPath(portalSlug)}/categories?locale={Uri.EscapeDataString(locale)}", null, TokenKind.User,
            $"listing categories of portal '{portalSlug}'", root => Items(root).Select(ReadCategory).ToList(), cancellationToken);
    }

    /// <summary>
    /// A category; <paramref name="locale"/> must be one of the portal's locales. A (slug, locale) pair already in the
    /// portal is a 422 "Locale should be unique in the category and portal" (not "has already been taken").
    /// </summary>
    public async Task<ChatwootCategory> CreateCategoryAsync(string portalSlug, string name, string slug, string locale, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(portalSlug);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(slug);
        ArgumentException.ThrowIfNullOrWhiteSpace(locale);
        var body = new JsonObject { ["category"] = new JsonObject { ["name"] = name, ["slug"] = slug, ["locale"] = locale } };
        var category = await CallAsync(HttpMethod.Post, $"{PortalPath(portalSlug)}/categories", body, TokenKind.User,
            $"creating category '{slug}' ({locale}) in portal '{portalSlug}'", root => ReadCategory(Single(root)), cancellationToken);
        LogCreated(logger, "category", category.Id, category.Slug);
        return category;
    }

    public async Task<IReadOnlyList<ChatwootAutomationRule>> ListAutomationRulesAsync(CancellationToken cancellationToken) =>
        await CallAsync(HttpMethod.Get, $"{AccountPath}/automation_rules", null, TokenKind.User, "listing automation rules",
            root => Items(root).Select(ReadRule).ToList(), cancellationToken);

    /// <summary>
    /// An automation rule that assigns every new conversation of <paramref name="inboxId"/> to <paramref name="teamId"/>:
    /// event <c>conversation_created</c>, condition <c>inbox_id equal_to [inbox]</c>, action <c>assign_team [team]</c>.
    /// </summary>
    /// <remarks>Not idempotent: rule names are not unique. List first.</remarks>
    public async Task<ChatwootAutomationRule> CreateTeamRoutingRuleAsync(string name, long inboxId, long teamId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var body = new JsonObject
        {
            ["name"] = name,
            ["description"] = $"Assigns new conversations of inbox {inboxId} to team {teamId}.",
            ["event_name"] = "conversation_created",
            ["active"] = true,
            ["conditions"] = new JsonArray(new JsonObject
            {
                ["attribute_key"] = "inbox_id",
                ["filter_operator"] = "equal_to",
                ["values"] = new JsonArray(inboxId),
                // The model allows one condition without an operator (the last); "AND"/"OR" would join it to a next one.
                ["query_operator"] = null,
            }),
            ["actions"] = new JsonArray(new JsonObject
            {
                ["action_name"] = "assign_team",
                ["action_params"] = new JsonArray(teamId),
            }),
        };
        var rule = await CallAsync(HttpMethod.Post, $"{AccountPath}/automation_rules", body, TokenKind.User, $"creating automation rule '{name}'",
            root => ReadRule(Single(root)), cancellationToken);
        LogCreated(logger, "automation rule", rule.Id, rule.Name);
        return rule;
    }

    /// <summary>Every user of the account, administrators included.</summary>
    public async Task<IReadOnlyList<ChatwootAgent>> ListAgentsAsync(CancellationToken cancellationToken) =>
        await CallAsync(HttpMethod.Get, $"{AccountPath}/agents", null, TokenKind.User, "listing agents",
            root => Items(root).Select(ReadAgent).ToList(), cancellationToken);

    /// <summary>
    /// A user of the installation, created confirmed through the Platform API. When a user with that email exists,
    /// Chatwoot answers that user instead (its name and password unchanged), so the call is idempotent on the email.
    /// </summary>
    public async Task<ChatwootUser> CreatePlatformUserAsync(string name, string email, string password, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(email);
        ArgumentException.ThrowIfNullOrWhiteSpace(password);
        var body = new JsonObject { ["name"] = name, ["email"] = email, ["password"] = password };
        var user = await CallAsync(HttpMethod.Post, "platform/api/v1/users", body, TokenKind.Platform, $"creating user '{name}'",
            root => ReadUser(Single(root)), cancellationToken);
        LogUserCreated(logger, user.Id);
        return user;
    }

    /// <summary>
    /// Gives <paramref name="userId"/> <paramref name="role"/> (<see cref="ChatwootRoles"/>) in the account. Idempotent:
    /// Chatwoot updates the role of a user already in the account. The Platform App may only do this in an account it
    /// created or was granted; otherwise Chatwoot answers 401 "Non permissible resource".
    /// </summary>
    /// <exception cref="ArgumentException">The role is neither <c>agent</c> nor <c>administrator</c> (Chatwoot would answer a 500 for it).</exception>
    public async Task AddAccountUserAsync(long userId, string role, CancellationToken cancellationToken)
    {
        if (role is not (ChatwootRoles.Agent or ChatwootRoles.Administrator))
        {
            throw new ArgumentException($"The role must be '{ChatwootRoles.Agent}' or '{ChatwootRoles.Administrator}'.", nameof(role));
        }

        var body = new JsonObject { ["user_id"] = userId, ["role"] = role };
        var path = $"platform/api/v1/accounts/{Settings.AccountId.ToString(CultureInfo.InvariantCulture)}/account_users";
        await SendAsync(HttpMethod.Post, path, body, TokenKind.Platform, $"adding user {userId} to the account as {role}", cancellationToken);
    }

    public async Task<IReadOnlyList<ChatwootAgent>> ListTeamMembersAsync(long teamId, CancellationToken cancellationToken) =>
        await CallAsync(HttpMethod.Get, TeamMembersPath(teamId), null, TokenKind.User, $"listing members of team {teamId}",
            root => Items(root).Select(ReadAgent).ToList(), cancellationToken);

    /// <summary>
    /// Adds users of the account to the team and answers only those newly added: members already in it are skipped,
    /// so the call is idempotent. An id that is not a user of the account is a 401 "Invalid User IDs".
    /// </summary>
    public async Task<IReadOnlyList<ChatwootAgent>> AddTeamMembersAsync(long teamId, IEnumerable<long> userIds, CancellationToken cancellationToken)
    {
        var ids = Ids(userIds);
        if (ids.Count == 0)
        {
            return [];
        }

        var added = await CallAsync(HttpMethod.Post, TeamMembersPath(teamId), new JsonObject { ["user_ids"] = ids }, TokenKind.User,
            $"adding {ids.Count} member(s) to team {teamId}", root => Items(root).Select(ReadAgent).ToList(), cancellationToken);
        LogMembersAdded(logger, "team", teamId, added.Count);
        return added;
    }

    public async Task RemoveTeamMembersAsync(long teamId, IEnumerable<long> userIds, CancellationToken cancellationToken)
    {
        var ids = Ids(userIds);
        if (ids.Count > 0)
        {
            await SendAsync(HttpMethod.Delete, TeamMembersPath(teamId), new JsonObject { ["user_ids"] = ids }, TokenKind.User,
                $"removing {ids.Count} member(s) from team {teamId}", cancellationToken);
        }
    }

    public async Task<IReadOnlyList<ChatwootAgent>> ListInboxMembersAsync(long inboxId, CancellationToken cancellationToken) =>
        await CallAsync(HttpMethod.Get, $"{AccountPath}/inbox_members/{inboxId.ToString(CultureInfo.InvariantCulture)}", null, TokenKind.User,
            $"listing members of inbox {inboxId}", root => Items(root).Select(ReadAgent).ToList(), cancellationToken);

    /// <summary>
    /// Adds users to the inbox and answers all its members. Idempotent (existing members are skipped). Chatwoot does not
    /// check that the users belong to the account, so pass only ids from <see cref="ListAgentsAsync"/>.
    /// </summary>
    public async Task<IReadOnlyList<ChatwootAgent>> AddInboxMembersAsync(long inboxId, IEnumerable<long> userIds, CancellationToken cancellationToken)
    {
        var ids = Ids(userIds);
        if (ids.Count == 0)
        {
            return await ListInboxMembersAsync(inboxId, cancellationToken);
        }

        var body = new JsonObject { ["inbox_id"] = inboxId, ["user_ids"] = ids };
        var members = await CallAsync(HttpMethod.Post, $"{AccountPath}/inbox_members", body, TokenKind.User,
            $"adding {ids.Count} member(s) to inbox {inboxId}", root => Items(root).Select(ReadAgent).ToList(), cancellationToken);
        LogInboxMembers(logger, inboxId, members.Count);
        return members;
    }

    public async Task RemoveInboxMembersAsync(long inboxId, IEnumerable<long> userIds, CancellationToken cancellationToken)
    {
        var ids = Ids(userIds);
        if (ids.Count > 0)
        {
            var body = new JsonObject { ["inbox_id"] = inboxId, ["user_ids"] = ids };
            await SendAsync(HttpMethod.Delete, $"{AccountPath}/inbox_members", body, TokenKind.User,
                $"removing {ids.Count} member(s) from inbox {inboxId}", cancellationToken);
        }
    }

    private string PortalPath(string slug) => $"{AccountPath}/portals/{Uri.EscapeDataString(slug)}";

    private string TeamMembersPath(long teamId) => $"{AccountPath}/teams/{teamId.ToString(CultureInfo.InvariantCulture)}/team_members";

    private static JsonArray Ids(IEnumerable<long> userIds)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        return new JsonArray(userIds.Distinct().Select(id => (JsonNode?)JsonValue.Create(id)).ToArray());
    }

    /// <summary>A call whose answer is read by <paramref name="read"/>; an answer that is not the expected JSON is a <see cref="ChatwootException"/>.</summary>
    private async Task<T> CallAsync<T>(HttpMethod method, string path, JsonNode? body, TokenKind kind, string operation, Func<JsonElement, T> read, CancellationToken cancellationToken)
    {
        var (status, text) = await SendAsync(method, path, body, kind, operation, cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(text);
            return read(document.RootElement);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            // A 2xx whose body is not what Chatwoot sends: retrying a create would not make it readable, only repeat it.
            throw Fail(operation, status, $"the answer is not in the expected shape ({ex.Message})", [], retryable: false, ex);
        }
    }

    /// <summary>One request with its token; any answer but a 2xx, and no answer, is a <see cref="ChatwootException"/>.</summary>
    private async Task<(int Status, string Text)> SendAsync(HttpMethod method, string path, JsonNode? body, TokenKind kind, string operation, CancellationToken cancellationToken)
    {
        var (setting, token) = kind == TokenKind.Platform
            ? (ChatwootOptions.PlatformTokenSetting, Settings.PlatformToken)
            : (ChatwootOptions.ApiTokenSetting, Settings.ApiToken);
        if (string.IsNullOrWhiteSpace(token))
        {
            throw Fail(operation, null, $"the setting {setting} is empty", [], retryable: false, null);
        }

        using var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation(TokenHeader, token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        int status;
        string text;
        string? mediaType;
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            status = (int)response.StatusCode;
            mediaType = response.Content.Headers.ContentType?.MediaType;
            text = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw Fail(operation, null, "connection failed", [], retryable: true, ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // HttpClient.Timeout ends the call with a cancellation the caller did not ask for.
            throw Fail(operation, null, "timed out", [], retryable: true, ex);
        }

        if (status is < 200 or > 299)
        {
            var (error, attributes) = ReadError(text, mediaType);
            throw Fail(operation, status, error, attributes, retryable: status is 408 or 429 or >= 500, null);
        }

        return (status, text);
    }

    private ChatwootException Fail(string operation, int? status, string? error, IReadOnlyList<string> attributes, bool retryable, Exception? inner)
    {
        error = Redact(error);
        // A 422 is often the answer an idempotent caller expects ("has already been taken"); the caller decides what it means.
        LogCallFailed(logger, status == 422 ? LogLevel.Information : LogLevel.Warning, operation, status, retryable, error);
        return new ChatwootException(operation, status, error, attributes, retryable, inner);
    }

    /// <summary>Keeps the tokens out of messages and logs even if a proxy or server echoes the request back.</summary>
    private string? Redact(string? text)
    {
        if (text is null)
        {
            return null;
        }

        foreach (var token in new[] { Settings.ApiToken, Settings.PlatformToken })
        {
            if (!string.IsNullOrEmpty(token))
            {
                text = text.Replace(token, "***", StringComparison.Ordinal);
            }
        }

        return text;
    }

    /// <summary>
    /// Chatwoot's words from an error body: <c>{"message","attributes"}</c> (validation), <c>{"error":"…"}</c> (auth, not
    /// found, limits), <c>{"error":{field:[…]}}</c> (automation rules), or plain text (429 <c>Retry later</c>). An HTML
    /// error page gives nothing worth keeping.
    /// </summary>
    internal static (string? Error, IReadOnlyList<string> Attributes) ReadError(string text, string? mediaType)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return (null, []);
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (OptionalText(root, "message") is { } message)
                {
                    var attributes = root.TryGetProperty("attributes", out var list) && list.ValueKind == JsonValueKind.Array
                        ? list.EnumerateArray().Where(a => a.ValueKind == JsonValueKind.String).Select(a => a.GetString()!).ToList()
                        : [];
                    return (message, attributes);
                }

                if (root.TryGetProperty("error", out var error))
                {
                    if (error.ValueKind == JsonValueKind.String)
                    {
                        return (error.GetString(), []);
                    }

                    if (error.ValueKind == JsonValueKind.Object)
                    {
                        var fields = error.EnumerateObject().ToList();
                        return (string.Join("; ", fields.Select(f => $"{f.Name}: {Words(f.Value)}")), fields.Select(f => f.Name).ToList());
                    }
                }

                if (OptionalText(root, "description") is { } description)
                {
                    return (description, []);
                }
            }

            return (Truncate(text.Trim()), []);
        }
        catch (JsonException)
        {
            if (mediaType == "text/html" || text.TrimStart().StartsWith('<'))
            {
                return (null, []);
            }

            return (Truncate(text.Trim()), []);
        }
    }

    private static string Words(JsonElement value) =>
        value.ValueKind == JsonValueKind.Array ? string.Join(", ", value.EnumerateArray().Select(m => m.ToString())) : value.ToString();

    private static string Truncate(string text) => text.Length <= 300 ? text : string.Concat(text.AsSpan(0, 300), "…");

    /// <summary>The list in an answer: a plain array, or the array under <c>payload</c>.</summary>
    private static JsonElement.ArrayEnumerator Items(JsonElement root)
    {
        var list = Unwrap(root);
        if (list.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"expected a list, got a JSON {list.ValueKind}");
        }

        return list.EnumerateArray();
    }

    /// <summary>The one object in an answer: flat, or under <c>payload</c>.</summary>
    private static JsonElement Single(JsonElement root)
    {
        var item = Unwrap(root);
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"expected an object, got a JSON {item.ValueKind}");
        }

        return item;
    }

    private static JsonElement Unwrap(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("payload", out var payload) ? payload : root;

    private static ChatwootInbox ReadInbox(JsonElement e) =>
        new(Id(e), Text(e, "name"), Text(e, "channel_type"), OptionalText(e, "webhook_url"), OptionalText(e, "secret"));

    private static ChatwootTeam ReadTeam(JsonElement e) => new(Id(e), Text(e, "name"));

    private static ChatwootPortal ReadPortal(JsonElement e) => new(Id(e), Text(e, "slug"), Text(e, "name"));

    private static ChatwootCategory ReadCategory(JsonElement e) => new(Id(e), Text(e, "slug"), Text(e, "name"), Text(e, "locale"));

    private static ChatwootAgent ReadAgent(JsonElement e) => new(Id(e), Text(e, "name"), Text(e, "email"), Text(e, "role"));

    private static ChatwootAutomationRule ReadRule(JsonElement e) => new(Id(e), Text(e, "name"));

    private static ChatwootUser ReadUser(JsonElement e) => new(Id(e), Text(e, "name"), Text(e, "email"));

    private static long Id(JsonElement e) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.Number && id.TryGetInt64(out var value)
            ? value
            : throw new FormatException("no integer 'id'");

    private static string Text(JsonElement e, string name) =>
        OptionalText(e, name) ?? throw new FormatException($"no string '{name}'");

    private static string? OptionalText(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    [LoggerMessage(EventId = 9100, Message = "Chatwoot call failed, {Operation}: HTTP {Status}, retryable {Retryable}: {Error}")]
    private static partial void LogCallFailed(ILogger logger, LogLevel level, string operation, int? status, bool retryable, string? error);

    [LoggerMessage(EventId = 9101, Level = LogLevel.Information, Message = "Chatwoot {Kind} {Id} created: {Name}")]
    private static partial void LogCreated(ILogger logger, string kind, long id, string name);

    [LoggerMessage(EventId = 9102, Level = LogLevel.Information, Message = "Chatwoot user {Id} created or found through the Platform API")]
    private static partial void LogUserCreated(ILogger logger, long id);

    [LoggerMessage(EventId = 9103, Level = LogLevel.Information, Message = "Chatwoot {Kind} {Id}: {Count} member(s) added")]
    private static partial void LogMembersAdded(ILogger logger, string kind, long id, int count);

    [LoggerMessage(EventId = 9104, Level = LogLevel.Information, Message = "Chatwoot inbox {Id} has {Count} member(s) after adding")]
    private static partial void LogInboxMembers(ILogger logger, long id, int count);
}
