// A local Chatwoot 4.15 for the calls provider onboarding makes, built from two sources:
//
// - Chatwoot's own OpenAPI file (tests/DecentCloud.Tests/Contracts/chatwoot/swagger.json, a byte-for-byte copy of
//   Chatwoot's swagger/swagger.json at commit f66b551c; see SOURCE.md there). Every request is checked against it by
//   ChatwootContract: the path and method are an operation of the spec, the api_access_token header carries the token
//   kind the operation's security names, and a JSON body meets the operation's requestBody schema. A request that
//   fails is answered 400 with the reason (401 for a missing or wrong-kind token, as the server would) and kept in
//   Violations, which the tests assert to be empty.
// - docs/chatwoot.md, "Chatwoot's API as the code relies on it" (read from Chatwoot's controllers, views and models
//   at commit f66b551c), for what the server actually answers where the spec is wrong: creates answer 200; a portal comes back flat
//   with config.allowed_locales as objects; inbox lists and inbox members are {payload:[…]}, a created category is
//   {payload:{…}}; teams, agents and team members are plain arrays; validation errors are 422 {message, attributes};
//   role and token failures are 401 {"error":…}; an unknown team member id is 401 "Invalid User IDs"; a 429 is plain
//   text "Retry later" without Retry-After. Team names are lower-cased and unique per account, portal slugs unique
//   across the installation, inbox names not unique, category (slug, locale) unique per portal, team member adds skip
//   existing members and answer only the new ones.
// - Automation rules, beyond what docs/chatwoot.md says of them, follow Chatwoot's AutomationRulesController, AutomationRule
//   model and jbuilder views (app/views/api/v1/accounts/automation_rules): top-level keys, conditions and actions
//   checked against the model's attribute and action lists, at most one condition without query_operator, 422
//   {"error":{field:[…]}} on failure; index answers {payload:[…]}, create answers the rule flat (the spec says
//   {payload:…}; the dashboard's store reads response.data for create and response.data.payload for the list).
// - The Platform API follows Platform::Api::V1::UsersController (a known email answers the existing user, so the call
//   is idempotent) and AccountUsersController (find_or_initialize_by user_id, then update the role); a Platform App may
//   only act on accounts it is permitted on (PlatformAppOwnsAccount), else 401 "Non permissible resource".
//
// Ids of different kinds come from different ranges (inboxes 1001+, teams 2001+, portals 3001+, categories 4001+,
// rules 5001+, users 1 and 11+) so a test notices an id passed where another kind belongs.
using System.Globalization;
using System.Net.Mail;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DecentCloud.Functions.Chatwoot.Api;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Chatwoot;

/// <summary>One request as the stand-in received it.</summary>
/// <param name="Operation">The spec operation it matched (<c>POST /api/v1/accounts/{account_id}/teams</c>), or null.</param>
/// <param name="Status">What the stand-in answered (0 when it dropped the connection).</param>
/// <param name="Violation">Why the request breaks the contract, or null when it meets it.</param>
public sealed record ChatwootRequest(string Method, string Path, string Query, string? Operation, ChatwootTokenKind Token, string? ContentType, string Body, int Status, string? Violation)
{
    public JsonNode? Json => Body.Length == 0 ? null : JsonNode.Parse(Body);
}

public sealed record ChatwootViolation(string Method, string Path, string Problem);

public sealed record StoredInbox(long Id, long ChannelId, string Name, string ChannelType, string? WebhookUrl, string Secret, string HmacToken, string InboxIdentifier);

public sealed record StoredTeam(long Id, string Name, string? Description, bool AllowAutoAssign);

/// <param name="AccountId">The account it belongs to; portals of other accounts only hold their slug.</param>
public sealed record StoredPortal(long Id, long AccountId, string Slug, string Name, string? CustomDomain, string Color, string DefaultLocale, IReadOnlyList<string> AllowedLocales);

public sealed record StoredCategory(long Id, long PortalId, string Slug, string Name, string Locale, string? Description, long? Position);

public sealed record StoredRule(long Id, string Name, string? Description, string EventName, bool Active, string ConditionsJson, string ActionsJson)
{
    public JsonArray Conditions => JsonNode.Parse(ConditionsJson)!.AsArray();

    public JsonArray Actions => JsonNode.Parse(ActionsJson)!.AsArray();
}

/// <param name="ViaPlatform">Created through the Platform API (so the Platform App may act on it).</param>
public sealed record StoredUser(long Id, string Name, string Email, string AccessToken, bool ViaPlatform);

public sealed record StoredAccountUser(long UserId, string Role);

public sealed partial class ChatwootStandIn : IAsyncDisposable
{
    public const string AdminToken = "cw-user-admin-token-0123456789abcdef";
    public const string PlatformToken = "cw-platform-app-token-0123456789abcdef";
    public const long AdminUserId = 1;

    private const string NotFound = "Resource could not be found";

    private static readonly Lazy<ChatwootContract> SharedContract = new(ChatwootContract.Load);

    private static readonly string[] InboxChannelTypes = ["web_widget", "api", "email", "line", "telegram", "whatsapp", "sms"];

    private static readonly HashSet<string> RuleConditions =
    [
        "content", "email", "country_code", "status", "message_type", "browser_language", "assignee_id", "team_id", "referer", "city", "company",
        "inbox_id", "mail_subject", "phone_number", "priority", "conversation_language", "labels",
    ];

    private static readonly HashSet<string> RuleActions =
    [
        "send_message", "add_label", "remove_label", "send_email_to_team", "assign_team", "assign_agent", "send_webhook_event", "mute_conversation",
        "send_attachment", "change_status", "resolve_conversation", "open_conversation", "pending_conversation", "snooze_conversation", "change_priority",
        "send_email_transcript", "add_private_note",
    ];

    private const string RailsErrorPage = "<!DOCTYPE html>\n<html>\n<head><title>We're sorry, but something went wrong (500)</title></head>\n<body><h1>We're sorry, but something went wrong.</h1></body>\n</html>\n";

    private readonly Lock gate = new();
    private readonly List<ChatwootRequest> requests = [];
    private readonly List<ChatwootViolation> violations = [];
    private readonly List<FailureRule> failures = [];
    private readonly SortedDictionary<long, StoredInbox> inboxes = [];
    private readonly SortedDictionary<long, StoredTeam> teams = [];
    private readonly SortedDictionary<long, StoredPortal> portals = [];
    private readonly SortedDictionary<long, StoredCategory> categories = [];
    private readonly SortedDictionary<long, StoredRule> rules = [];
    private readonly SortedDictionary<long, StoredUser> users = [];
    private readonly SortedDictionary<long, StoredAccountUser> accountUsers = [];
    private readonly Dictionary<long, List<long>> teamMembers = [];
    private readonly Dictionary<long, List<long>> inboxMembers = [];
    private readonly Dictionary<string, Func<Call, Reply>> handlers;
    private readonly TimeProvider clock;
    private readonly WebApplication app;
    private long nextInbox = 1001;
    private long nextChannel = 1;
    private long nextTeam = 2001;
    private long nextPortal = 3001;
    private long nextCategory = 4001;
    private long nextRule = 5001;
    private long nextUser = 11;

    private ChatwootStandIn(int accountId, TimeProvider clock)
    {
        AccountId = accountId;
        this.clock = clock;
        users[AdminUserId] = new StoredUser(AdminUserId, "Ada Admin", "admin@chatwoot.test", AdminToken, ViaPlatform: false);
        accountUsers[AdminUserId] = new StoredAccountUser(AdminUserId, ChatwootRoles.Administrator);
        var account = "/api/v1/accounts/{account_id}";
        handlers = new Dictionary<string, Func<Call, Reply>>(StringComparer.Ordinal)
        {
            [$"GET {account}/inboxes"] = ListInboxes,
            [$"POST {account}/inboxes"] = CreateInbox,
            [$"GET {account}/teams"] = ListTeams,
            [$"POST {account}/teams"] = CreateTeam,
            [$"GET {account}/teams/{{team_id}}/team_members"] = call => WithTeam(call, team => Json(200, Agents(teamMembers[team.Id]))),
            [$"POST {account}/teams/{{team_id}}/team_members"] = AddTeamMembers,
            [$"PATCH {account}/teams/{{team_id}}/team_members"] = ReplaceTeamMembers,
            [$"DELETE {account}/teams/{{team_id}}/team_members"] = RemoveTeamMembers,
            [$"GET {account}/inbox_members/{{inbox_id}}"] = call => WithInbox(call.Operation.Id("inbox_id"), inbox => Payload(Agents(inboxMembers[inbox.Id]))),
            [$"POST {account}/inbox_members"] = call => ChangeInboxMembers(call, replace: false),
            [$"PATCH {account}/inbox_members"] = call => ChangeInboxMembers(call, replace: true),
            [$"DELETE {account}/inbox_members"] = RemoveInboxMembers,
            [$"GET {account}/portals"] = ListPortals,
            [$"POST {account}/portals"] = CreatePortal,
            [$"GET {account}/portals/{{id}}/categories"] = ListCategories,
            [$"POST {account}/portals/{{id}}/categories"] = CreateCategory,
            [$"GET {account}/automation_rules"] = _ => Payload(new JsonArray([.. rules.Values.Select(RuleJson)])),
            [$"POST {account}/automation_rules"] = CreateRule,
            [$"GET {account}/agents"] = _ => Json(200, Agents(accountUsers.Keys)),
            ["POST /platform/api/v1/users"] = CreatePlatformUser,
            ["POST /platform/api/v1/accounts/{account_id}/account_users"] = AddAccountUser,
        };

        app = LoopbackServer.CreateBuilder().Build();
        app.Run(HandleAsync);
    }

    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    public int AccountId { get; }

    public ChatwootContract Contract => SharedContract.Value;

    /// <summary>Whether the Platform App may act on this account (it created it, or was granted it); else account_users answers 401.</summary>
    public bool PlatformAppOwnsAccount { get; set; } = true;

    /// <summary>The plan's inbox limit, when set: one more inbox answers 402.</summary>
    public int? InboxLimit { get; set; }

    public IReadOnlyList<ChatwootRequest> Requests => Snapshot(() => requests.ToList());

    public IReadOnlyList<ChatwootViolation> Violations => Snapshot(() => violations.ToList());

    public IReadOnlyList<StoredInbox> Inboxes => Snapshot(() => inboxes.Values.ToList());

    public IReadOnlyList<StoredTeam> Teams => Snapshot(() => teams.Values.ToList());

    /// <summary>This account's portals (not the slugs <see cref="AddForeignPortal"/> reserved).</summary>
    public IReadOnlyList<StoredPortal> Portals => Snapshot(() => portals.Values.Where(p => p.AccountId == AccountId).ToList());

    public IReadOnlyList<StoredCategory> Categories => Snapshot(() => categories.Values.ToList());

    public IReadOnlyList<StoredRule> AutomationRules => Snapshot(() => rules.Values.ToList());

    /// <summary>Every user of the installation, in or out of the account.</summary>
    public IReadOnlyList<StoredUser> Users => Snapshot(() => users.Values.ToList());

    public IReadOnlyList<StoredAccountUser> AccountUsers => Snapshot(() => accountUsers.Values.ToList());

    public IReadOnlyDictionary<long, IReadOnlyList<long>> TeamMembers =>
        Snapshot(() => teamMembers.ToDictionary(m => m.Key, m => (IReadOnlyList<long>)[.. m.Value]));

    public IReadOnlyDictionary<long, IReadOnlyList<long>> InboxMembers =>
        Snapshot(() => inboxMembers.ToDictionary(m => m.Key, m => (IReadOnlyList<long>)[.. m.Value]));

    public static async Task<ChatwootStandIn> StartAsync(int accountId = 1, TimeProvider? clock = null)
    {
        var standIn = new ChatwootStandIn(accountId, clock ?? TimeProvider.System);
        await standIn.app.StartAsync();
        standIn.BaseAddress = LoopbackServer.AddressOf(standIn.app);
        return standIn;
    }

    /// <summary>The app's settings for this stand-in, as a host's configuration would hold them.</summary>
    public IReadOnlyDictionary<string, string?> Settings() => new Dictionary<string, string?>
    {
        [ChatwootOptions.BaseUrlSetting] = BaseAddress.AbsoluteUri,
        [ChatwootOptions.AccountIdSetting] = AccountId.ToString(CultureInfo.InvariantCulture),
        [ChatwootOptions.ApiTokenSetting] = AdminToken,
        [ChatwootOptions.PlatformTokenSetting] = PlatformToken,
    };

    public ChatwootOptions Options() => new()
    {
        BaseUrl = BaseAddress,
        AccountId = AccountId,
        ApiToken = AdminToken,
        PlatformToken = PlatformToken,
    };

    /// <summary>A user already in the account (as if invited in the dashboard), with its own user token.</summary>
    public StoredUser AddAgent(string name, string email, string role = ChatwootRoles.Agent)
    {
        lock (gate)
        {
            var user = NewUser(name, email, viaPlatform: false);
            accountUsers[user.Id] = new StoredAccountUser(user.Id, role);
            return user;
        }
    }

    /// <summary>A user of the installation who is not in this account.</summary>
    public StoredUser AddUserOutsideAccount(string name, string email)
    {
        lock (gate)
        {
            return NewUser(name, email, viaPlatform: false);
        }
    }

    /// <summary>A portal of another account: its slug is taken, but this account's list does not show it.</summary>
    public void AddForeignPortal(string slug)
    {
        lock (gate)
        {
            var id = nextPortal++;
            portals[id] = new StoredPortal(id, AccountId + 1000, slug, slug, null, "#1f93ff", "en", ["en"]);
        }
    }

    /// <summary>
    /// The next <paramref name="count"/> requests matching <paramref name="match"/> fail with <paramref name="status"/>:
    /// 429 as Rack::Attack sends it (plain text <c>Retry later</c>, no Retry-After), 5xx as an HTML error page, 0 as a
    /// connection dropped without an answer, anything else as a JSON <c>{"error"}</c>. <paramref name="match"/> is an
    /// operation (<c>"POST /api/v1/accounts/{account_id}/teams"</c>) or a path prefix (<c>"/api/v1/accounts/1/teams"</c>).
    /// With <paramref name="afterApplying"/> the request takes effect first and only its answer is lost, as when
    /// Chatwoot commits and a proxy then times out. With <paramref name="mentioning"/> only requests whose path or body
    /// holds that text count, so tests that share the stand-in each fail only their own requests.
    /// </summary>
    public void FailNext(string match, int status, int count = 1, bool afterApplying = false, string? mentioning = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(match);
        lock (gate)
        {
            failures.Add(new FailureRule(match, status, afterApplying, TimeSpan.Zero) { Left = count, Mentioning = mentioning });
        }
    }

    /// <summary>The next <paramref name="count"/> requests matching <paramref name="match"/> are answered only after <paramref name="delay"/>.</summary>
    public void DelayNext(string match, TimeSpan delay, int count = 1)
    {
        lock (gate)
        {
            failures.Add(new FailureRule(match, null, false, delay) { Left = count });
        }
    }

    /// <summary>
    /// The next request matching <paramref name="match"/> waits, before it takes effect, until the hold is released (then
    /// it is answered as usual) or its caller goes away (then it never takes effect): a Chatwoot call in flight while a
    /// test kills its caller.
    /// </summary>
    public ChatwootHold HoldNext(string match)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(match);
        var hold = new ChatwootHold();
        lock (gate)
        {
            failures.Add(new FailureRule(match, null, false, TimeSpan.Zero) { Left = 1, Hold = hold });
        }

        return hold;
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();

    private T Snapshot<T>(Func<T> read)
    {
        lock (gate)
        {
            return read();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var method = request.Method.ToUpperInvariant();
        var path = request.Path.Value ?? "/";
        var header = request.Headers.TryGetValue(ChatwootClient.TokenHeader, out var values) ? values.ToString() : null;

        ChatwootTokenKind kind;
        StoredUser? caller;
        lock (gate)
        {
            (kind, caller) = Classify(header);
        }

        var (operation, parsed, violation, refusal) = Admit(method, path, header, kind, request.ContentType, body);
        var reply = refusal;
        FailureRule? failure = null;
        if (reply is null)
        {
            lock (gate)
            {
                failure = TakeFailure(method, operation!.Template, path, body);
            }

            if (failure?.Delay > TimeSpan.Zero)
            {
                await Task.Delay(failure.Delay, context.RequestAborted);
            }

            if (failure?.Hold is { } hold)
            {
                hold.Arrive();
                await hold.Released.WaitAsync(context.RequestAborted);
            }

            var applies = failure?.Status is null || failure.AfterApplying;
            if (applies)
            {
                lock (gate)
                {
                    reply = Authorize(operation!, caller) ?? Dispatch(new Call(operation!, caller, parsed, request.Query));
                }
            }

            if (failure?.Status is { } failedWith)
            {
                reply = FailureReply(failedWith);
            }
        }

        lock (gate)
        {
            requests.Add(new ChatwootRequest(method, path, request.QueryString.Value ?? "", operation?.Key, kind, request.ContentType, body, reply!.Status, violation));
            if (violation is not null)
            {
                violations.Add(new ChatwootViolation(method, path, violation));
            }
        }

        if (reply!.Status == 0)
        {
            context.Abort();
            return;
        }

        context.Response.StatusCode = reply.Status;
        if (reply.ContentType is not null)
        {
            context.Response.ContentType = reply.ContentType;
        }

        if (reply.Body.Length > 0)
        {
            await context.Response.WriteAsync(reply.Body, context.RequestAborted);
        }
    }

    /// <summary>The contract checks: a spec operation, the right kind of token, a JSON body that meets the schema.</summary>
    private (ChatwootOperation? Operation, JsonElement Body, string? Violation, Reply? Refusal) Admit(
        string method, string path, string? header, ChatwootTokenKind kind, string? contentType, string body)
    {
        var operation = Contract.Find(method, path);
        if (operation is null)
        {
            var problem = Contract.HasPath(path)
                ? $"{method} is not an operation of {path} in swagger.json"
                : $"{method} {path} is not an operation in swagger.json";
            return (null, default, problem, Text(400, $"Contract violation: {problem}"));
        }

        var platform = path.StartsWith("/platform/", StringComparison.Ordinal);
        if (operation.Tokens.Count > 0)
        {
            var invalid = Error(401, platform ? "Invalid access_token" : "Invalid Access Token");
            if (header is null)
            {
                return (operation, default, $"no {ChatwootClient.TokenHeader} header on {operation.Key}, which takes a {string.Join(" or ", operation.Tokens)} token", invalid);
            }

            if (kind == ChatwootTokenKind.Unknown)
            {
                // A revoked or mistyped token is the caller's bad luck, not a broken request.
                return (operation, default, null, invalid);
            }

            if (!operation.Tokens.Contains(kind))
            {
                return (operation, default, $"a {kind} token on {operation.Key}, which takes a {string.Join(" or ", operation.Tokens)} token", invalid);
            }
        }

        if (operation.Body is null)
        {
            return (operation, default, null, null);
        }

        if (body.Length == 0)
        {
            return operation.BodyRequired
                ? (operation, default, $"{operation.Key} takes a JSON body and got none", Text(400, $"Contract violation: {operation.Key} takes a JSON body"))
                : (operation, default, null, null);
        }

        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType) || !mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            var problem = $"content type '{contentType}' on {operation.Key} is not application/json";
            return (operation, default, problem, Text(400, $"Contract violation: {problem}"));
        }

        JsonElement parsed;
        try
        {
            using var document = JsonDocument.Parse(body);
            parsed = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            var problem = $"the body of {operation.Key} is not JSON ({ex.Message})";
            return (operation, default, problem, Text(400, $"Contract violation: {problem}"));
        }

        var problems = Contract.CheckBody(operation, parsed);
        if (problems.Count > 0)
        {
            var problem = $"{operation.Key}: {string.Join("; ", problems)}";
            return (operation, parsed, problem, Text(400, $"Contract violation: {problem}"));
        }

        return (operation, parsed, null, null);
    }

    /// <summary>The account and role checks the server makes before the action, answered as it answers them.</summary>
    private Reply? Authorize(ChatwootOperation operation, StoredUser? caller)
    {
        if (!operation.Values.TryGetValue("account_id", out var accountId) || accountId == AccountId.ToString(CultureInfo.InvariantCulture))
        {
            if (caller is null || !operation.Template.StartsWith("/api/v1/accounts/", StringComparison.Ordinal))
            {
                return null;
            }

            if (!accountUsers.TryGetValue(caller.Id, out var membership))
            {
                return Error(401, "You are not authorized to access this account");
            }

            // Pundit: setup calls are for administrators; agents may read teams, agents, inboxes and members.
            var adminOnly = operation.Method != "GET" || operation.Template.EndsWith("/automation_rules", StringComparison.Ordinal);
            return adminOnly && membership.Role != ChatwootRoles.Administrator ? Error(401, "You are not authorized to do this action") : null;
        }

        return operation.Template.StartsWith("/platform/", StringComparison.Ordinal)
            ? Error(404, NotFound)
            : Error(401, "You are not authorized to access this account");
    }

    private Reply Dispatch(Call call) =>
        handlers.TryGetValue(call.Operation.Key, out var handler)
            ? handler(call)
            : Text(501, $"The stand-in does not model {call.Operation.Key} (it is in the contract; add it here when the app calls it).");

    private (ChatwootTokenKind Kind, StoredUser? User) Classify(string? header)
    {
        if (header is null)
        {
            return (ChatwootTokenKind.None, null);
        }

        if (header == PlatformToken)
        {
            return (ChatwootTokenKind.Platform, null);
        }

        var user = users.Values.FirstOrDefault(u => u.AccessToken == header);
        return user is null ? (ChatwootTokenKind.Unknown, null) : (ChatwootTokenKind.User, user);
    }

    private FailureRule? TakeFailure(string method, string template, string path, string body)
    {
        var rule = failures.FirstOrDefault(f => f.Left > 0
            && (f.Mentioning is null || path.Contains(f.Mentioning, StringComparison.OrdinalIgnoreCase) || body.Contains(f.Mentioning, StringComparison.OrdinalIgnoreCase))
            && (f.Match.Contains(' ', StringComparison.Ordinal)
                ? f.Match == $"{method} {template}"
                : path.StartsWith(f.Match, StringComparison.Ordinal)));
        if (rule is not null)
        {
            rule.Left--;
        }

        return rule;
    }

    private static Reply FailureReply(int status) => status switch
    {
        0 => new Reply(0, null, ""),
        429 => Text(429, "Retry later\n"),
        500 => new Reply(500, "text/html; charset=utf-8", RailsErrorPage),
        > 500 => new Reply(status, "text/html", $"<html><head><title>{status}</title></head><body><center><h1>{status}</h1></center><hr><center>nginx</center></body></html>\n"),
        402 => Error(402, "Account limit exceeded. Upgrade to a higher plan"),
        404 => Error(404, NotFound),
        422 => Invalid("Stand-in failure", []),
        _ => Error(status, $"stand-in failure {status.ToString(CultureInfo.InvariantCulture)}"),
    };

    private Reply ListInboxes(Call call)
    {
        var admin = IsAdmin(call.Caller);
        var visible = inboxes.Values.Where(i => admin || inboxMembers[i.Id].Contains(call.Caller!.Id));
        return Payload(new JsonArray([.. visible.Select(i => InboxJson(i, admin))]));
    }

    private Reply CreateInbox(Call call)
    {
        if (InboxLimit is { } limit && inboxes.Count >= limit)
        {
            return Error(402, "Account limit exceeded. Upgrade to a higher plan");
        }

        var body = call.Body;
        var channel = body.TryGetProperty("channel", out var c) && c.ValueKind == JsonValueKind.Object ? c : default;
        var type = Str(channel, "type");
        if (type is null || !InboxChannelTypes.Contains(type))
        {
            return Invalid("Channel must exist", ["channel"]);
        }

        if (type != "api")
        {
            return Text(501, $"The stand-in models API-channel inboxes only, not '{type}'.");
        }

        var name = Str(body, "name");
        if (string.IsNullOrWhiteSpace(name))
        {
            return Invalid("Name can't be blank", ["name"]);
        }

        var webhookUrl = Str(channel, "webhook_url");
        if (webhookUrl is { Length: > 2048 })
        {
            return Invalid("Webhook url is too long (maximum is 2048 characters)", ["webhook_url"]);
        }

        var inbox = new StoredInbox(nextInbox++, nextChannel++, name, ChatwootInbox.ApiChannelType, webhookUrl, SecureToken(), SecureToken(), SecureToken());
        inboxes[inbox.Id] = inbox;
        inboxMembers[inbox.Id] = [];
        return Json(200, InboxJson(inbox, IsAdmin(call.Caller)));
    }

    private Reply ListTeams(Call call) => Json(200, new JsonArray([.. teams.Values.Select(t => TeamJson(t, call.Caller))]));

    private Reply CreateTeam(Call call)
    {
        if (Wrapped(call, "team") is not { } fields)
        {
            return ParameterMissing("team");
        }

        // Team#name is lower-cased before validation, so uniqueness is in effect case-insensitive.
        var name = Str(fields, "name")?.ToLowerInvariant();
        if (string.IsNullOrWhiteSpace(name))
        {
            return Invalid("Name can't be blank", ["name"]);
        }

        if (teams.Values.Any(t => t.Name == name))
        {
            return Invalid("Name has already been taken", ["name"]);
        }

        var team = new StoredTeam(nextTeam++, name, Str(fields, "description"), Bool(fields, "allow_auto_assign") ?? true);
        teams[team.Id] = team;
        teamMembers[team.Id] = [];
        return Json(200, TeamJson(team, call.Caller));
    }

    private Reply AddTeamMembers(Call call) => WithTeam(call, team => WithAccountUsers(call, ids =>
    {
        var members = teamMembers[team.Id];
        var added = ids.Distinct().Where(id => !members.Contains(id)).ToList();
        members.AddRange(added);
        return Json(200, Agents(added));
    }));

    private Reply ReplaceTeamMembers(Call call) => WithTeam(call, team => WithAccountUsers(call, ids =>
    {
        teamMembers[team.Id] = [.. ids.Distinct()];
        return Json(200, Agents(teamMembers[team.Id]));
    }));

    private Reply RemoveTeamMembers(Call call) => WithTeam(call, team => WithAccountUsers(call, ids =>
    {
        teamMembers[team.Id].RemoveAll(ids.Contains);
        return new Reply(200, null, "");
    }));

    private Reply ChangeInboxMembers(Call call, bool replace) =>
        WithInbox(InboxId(call.Body), inbox =>
        {
            var ids = UserIds(call.Body);
            if (ids.Any(id => !users.ContainsKey(id)))
            {
                return Invalid("User must exist", ["user"]);
            }

            var members = inboxMembers[inbox.Id];
            if (replace)
            {
                members.Clear();
            }

            members.AddRange(ids.Distinct().Where(id => !members.Contains(id)));
            return Payload(Agents(members));
        });

    private Reply RemoveInboxMembers(Call call) =>
        WithInbox(InboxId(call.Body), inbox =>
        {
            var ids = UserIds(call.Body);
            inboxMembers[inbox.Id].RemoveAll(ids.Contains);
            return new Reply(200, null, "");
        });

    private Reply ListPortals(Call call)
    {
        var mine = portals.Values.Where(p => p.AccountId == AccountId).ToList();
        return Json(200, new JsonObject
        {
            ["payload"] = new JsonArray([.. mine.Select(PortalJson)]),
            ["meta"] = new JsonObject { ["current_page"] = 1, ["portals_count"] = mine.Count },
        });
    }

    private Reply CreatePortal(Call call)
    {
        if (Wrapped(call, "portal") is not { } fields)
        {
            return ParameterMissing("portal");
        }

        var name = Str(fields, "name");
        var slug = Str(fields, "slug");
        var customDomain = Str(fields, "custom_domain") is { Length: > 0 } domain
            ? (Uri.TryCreate(domain, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" ? url.Host : domain)
            : null;
        var color = Str(fields, "color") ?? "#1f93ff";
        var config = fields.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object ? c : default;
        var defaultLocale = Str(config, "default_locale");
        var allowed = config.ValueKind == JsonValueKind.Object && config.TryGetProperty("allowed_locales", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Where(l => l.ValueKind == JsonValueKind.String).Select(l => l.GetString()!).Distinct().ToList()
            : [];
        if (allowed.Count == 0)
        {
            allowed.Add(defaultLocale ?? "en");
        }

        var drafts = config.ValueKind == JsonValueKind.Object && config.TryGetProperty("draft_locales", out var d) && d.ValueKind == JsonValueKind.Array
            ? d.EnumerateArray().Select(l => l.ToString()).ToList()
            : [];

        var messages = new List<(string Message, string Attribute)>();
        if (string.IsNullOrWhiteSpace(name))
        {
            messages.Add(("Name can't be blank", "name"));
        }

        if (string.IsNullOrWhiteSpace(slug))
        {
            messages.Add(("Slug can't be blank", "slug"));
        }
        else if (portals.Values.Any(p => p.Slug == slug))
        {
            // Unique across the installation (DB index on slug), not only within the account.
            messages.Add(("Slug has already been taken", "slug"));
        }

        if (customDomain is not null && portals.Values.Any(p => p.CustomDomain == customDomain))
        {
            messages.Add(("Custom domain has already been taken", "custom_domain"));
        }

        if (!ColorPattern().IsMatch(color))
        {
            messages.Add(("Color is invalid", "color"));
        }

        if (defaultLocale is not null && drafts.Contains(defaultLocale))
        {
            messages.Add(("Config default locale cannot be a draft locale", "config"));
        }

        if (messages.Count > 0)
        {
            return Invalid(string.Join(", ", messages.Select(m => m.Message)), [.. messages.Select(m => m.Attribute).Distinct()]);
        }

        var portal = new StoredPortal(nextPortal++, AccountId, slug!, name!, customDomain, color, defaultLocale ?? "en", allowed);
        portals[portal.Id] = portal;
        return Json(200, PortalJson(portal));
    }

    private Reply ListCategories(Call call) => WithPortal(call, portal =>
    {
        var locale = call.Query["locale"].ToString();
        var found = categories.Values.Where(c => c.PortalId == portal.Id && (locale.Length == 0 || c.Locale == locale)).ToList();
        return Json(200, new JsonObject
        {
            ["payload"] = new JsonArray([.. found.Select(CategoryJson)]),
            ["meta"] = new JsonObject { ["current_page"] = 1, ["categories_count"] = found.Count },
        });
    });

    private Reply CreateCategory(Call call) => WithPortal(call, portal =>
    {
        if (Wrapped(call, "category") is not { } fields)
        {
            return ParameterMissing("category");
        }

        var name = Str(fields, "name");
        var slug = Str(fields, "slug");
        var locale = Str(fields, "locale") ?? "en";
        var messages = new List<(string Message, string Attribute)>();
        if (string.IsNullOrWhiteSpace(name))
        {
            messages.Add(("Name can't be blank", "name"));
        }

        if (string.IsNullOrWhiteSpace(slug))
        {
            messages.Add(("Slug can't be blank", "slug"));
        }

        if (!portal.AllowedLocales.Contains(locale))
        {
            messages.Add(($"Locale {locale} of category is not part of portal's [{string.Join(", ", portal.AllowedLocales)}].", "locale"));
        }
        else if (categories.Values.Any(c => c.PortalId == portal.Id && c.Slug == slug && c.Locale == locale))
        {
            messages.Add(("Locale should be unique in the category and portal", "locale"));
        }

        if (messages.Count > 0)
        {
            return Invalid(string.Join(", ", messages.Select(m => m.Message)), [.. messages.Select(m => m.Attribute).Distinct()]);
        }

        var position = fields.TryGetProperty("position", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt64() : (long?)null;
        var category = new StoredCategory(nextCategory++, portal.Id, slug!, name!, locale, Str(fields, "description"), position);
        categories[category.Id] = category;
        return Payload(CategoryJson(category));
    });

    private Reply CreateRule(Call call)
    {
        var body = call.Body;
        var name = Str(body, "name");
        var eventName = Str(body, "event_name");
        var conditions = body.TryGetProperty("conditions", out var c) && c.ValueKind == JsonValueKind.Array ? c : default;
        var actions = body.TryGetProperty("actions", out var a) && a.ValueKind == JsonValueKind.Array ? a : default;
        if (name is null || eventName is null || conditions.ValueKind != JsonValueKind.Array || actions.ValueKind != JsonValueKind.Array)
        {
            // name, event_name, conditions and actions are NOT NULL columns the model does not validate: the insert fails.
            return new Reply(500, "text/html; charset=utf-8", RailsErrorPage);
        }

        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string field, string message) => (errors.TryGetValue(field, out var list) ? list : errors[field] = []).Add(message);

        var unknownConditions = conditions.EnumerateArray().Select(x => Str(x, "attribute_key") ?? "").Where(k => !RuleConditions.Contains(k)).ToList();
        if (unknownConditions.Count > 0)
        {
            Add("conditions", $"Automation conditions {string.Join(",", unknownConditions)} not supported.");
        }

        var unknownActions = actions.EnumerateArray().Select(x => Str(x, "action_name") ?? "").Where(k => !RuleActions.Contains(k)).ToList();
        if (unknownActions.Count > 0)
        {
            Add("actions", $"Automation actions {string.Join(",", unknownActions)} not supported.");
        }

        if (conditions.EnumerateArray().Count(x => Str(x, "query_operator") is null) > 1)
        {
            Add("conditions", "Automation conditions should have query operator.");
        }

        if (conditions.EnumerateArray().Any(x => Str(x, "query_operator") is { Length: > 0 } op && op.ToUpperInvariant() is not ("AND" or "OR")))
        {
            Add("conditions", "Query operator must be either \"AND\" or \"OR\"");
        }

        if (errors.Count > 0)
        {
            var error = new JsonObject();
            foreach (var (field, messages) in errors)
            {
                error[field] = new JsonArray([.. messages.Select(m => (JsonNode?)JsonValue.Create(m))]);
            }

            return Json(422, new JsonObject { ["error"] = error });
        }

        var rule = new StoredRule(nextRule++, name, Str(body, "description"), eventName, Bool(body, "active") ?? true, conditions.GetRawText(), actions.GetRawText());
        rules[rule.Id] = rule;
        return Json(200, RuleJson(rule));
    }

    private Reply CreatePlatformUser(Call call)
    {
        var body = call.Body;
        var email = Str(body, "email")?.Trim();
        // Platform::Api::V1::UsersController#create: a known email answers that user, unchanged.
        var existing = email is null ? null : users.Values.FirstOrDefault(u => string.Equals(u.Email, email, StringComparison.OrdinalIgnoreCase));
        if (existing is not null)
        {
            return Json(200, PlatformUserJson(existing));
        }

        var name = Str(body, "name");
        var password = Str(body, "password");
        var messages = new List<(string Message, string Attribute)>();
        if (string.IsNullOrWhiteSpace(name))
        {
            messages.Add(("Name can't be blank", "name"));
        }

        if (string.IsNullOrWhiteSpace(email))
        {
            messages.Add(("Email can't be blank", "email"));
        }
        else if (!MailAddress.TryCreate(email, out var parsed) || parsed.Address != email)
        {
            messages.Add(("Email is invalid", "email"));
        }

        if (string.IsNullOrEmpty(password))
        {
            messages.Add(("Password can't be blank", "password"));
        }
        else if (password.Length < 6)
        {
            messages.Add(("Password is too short (minimum is 6 characters)", "password"));
        }
        else if (!password.Any(char.IsAsciiLetterUpper) || !password.Any(char.IsAsciiLetterLower) || !password.Any(char.IsAsciiDigit) || password.All(char.IsAsciiLetterOrDigit))
        {
            // The spec's wording of the rule (user_create_update_payload.password).
            messages.Add(("Password must contain uppercase, lowercase letters, number and a special character", "password"));
        }

        if (messages.Count > 0)
        {
            return Invalid(string.Join(", ", messages.Select(m => m.Message)), [.. messages.Select(m => m.Attribute).Distinct()]);
        }

        var user = NewUser(name!, email!, viaPlatform: true);
        return Json(200, PlatformUserJson(user));
    }

    private Reply AddAccountUser(Call call)
    {
        if (!PlatformAppOwnsAccount)
        {
            return Error(401, "Non permissible resource");
        }

        var body = call.Body;
        var userId = body.TryGetProperty("user_id", out var u) && u.ValueKind == JsonValueKind.Number ? u.GetInt64() : 0;
        if (!users.ContainsKey(userId))
        {
            return Invalid("User must exist", ["user"]);
        }

        var role = Str(body, "role") ?? ChatwootRoles.Agent;
        if (role is not (ChatwootRoles.Agent or ChatwootRoles.Administrator))
        {
            // AccountUser#role is a Rails enum: an unknown value raises ArgumentError, which nothing turns into a 422.
            return new Reply(500, "text/html; charset=utf-8", RailsErrorPage);
        }

        accountUsers[userId] = new StoredAccountUser(userId, role);
        var now = clock.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        return Json(200, new JsonObject
        {
            ["id"] = userId + 100,
            ["account_id"] = AccountId,
            ["user_id"] = userId,
            ["role"] = role,
            ["inviter_id"] = null,
            ["created_at"] = now,
            ["updated_at"] = now,
            ["active_at"] = null,
            ["availability"] = "online",
            ["auto_offline"] = true,
            ["custom_role_id"] = null,
        });
    }

    private Reply WithTeam(Call call, Func<StoredTeam, Reply> action) =>
        teams.TryGetValue(call.Operation.Id("team_id"), out var team) ? action(team) : Error(404, NotFound);

    private Reply WithInbox(long? inboxId, Func<StoredInbox, Reply> action) =>
        inboxId is { } id && inboxes.TryGetValue(id, out var inbox) ? action(inbox) : Error(404, NotFound);

    private Reply WithPortal(Call call, Func<StoredPortal, Reply> action)
    {
        var portal = portals.Values.FirstOrDefault(p => p.AccountId == AccountId && p.Slug == call.Operation.Values["id"]);
        return portal is null ? Error(404, NotFound) : action(portal);
    }

    /// <summary>team_members' before_action: every id must be a user of the account, or the whole call is a 401.</summary>
    private Reply WithAccountUsers(Call call, Func<List<long>, Reply> action)
    {
        var ids = UserIds(call.Body);
        return ids.All(accountUsers.ContainsKey) ? action(ids) : Error(401, "Invalid User IDs");
    }

    /// <summary>The controller's <c>params.require(wrapper)</c> after Rails' wrap_parameters: the nested object, or the flat body's columns.</summary>
    private static JsonElement? Wrapped(Call call, string wrapper)
    {
        var body = call.Body;
        if (body.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (body.TryGetProperty(wrapper, out var inner))
        {
            return inner.ValueKind == JsonValueKind.Object && inner.EnumerateObject().Any() ? inner : null;
        }

        return body.EnumerateObject().Any() ? body : null;
    }

    private static List<long> UserIds(JsonElement body) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty("user_ids", out var ids) && ids.ValueKind == JsonValueKind.Array
            ? [.. ids.EnumerateArray().Where(i => i.ValueKind == JsonValueKind.Number).Select(i => i.GetInt64())]
            : [];

    private static long? InboxId(JsonElement body) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty("inbox_id", out var id)
            ? id.ValueKind switch
            {
                JsonValueKind.Number => id.GetInt64(),
                JsonValueKind.String when long.TryParse(id.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) => parsed,
                _ => null,
            }
            : null;

    private bool IsAdmin(StoredUser? user) =>
        user is not null && accountUsers.TryGetValue(user.Id, out var membership) && membership.Role == ChatwootRoles.Administrator;

    private StoredUser NewUser(string name, string email, bool viaPlatform)
    {
        var user = new StoredUser(nextUser++, name, email, "cw-user-" + SecureToken(), viaPlatform);
        users[user.Id] = user;
        return user;
    }

    private static JsonObject InboxJson(StoredInbox inbox, bool admin)
    {
        var json = new JsonObject
        {
            ["id"] = inbox.Id,
            ["avatar_url"] = "",
            ["channel_id"] = inbox.ChannelId,
            ["name"] = inbox.Name,
            ["channel_type"] = inbox.ChannelType,
            ["greeting_enabled"] = false,
            ["greeting_message"] = null,
            ["working_hours_enabled"] = false,
            ["enable_email_collect"] = true,
            ["csat_survey_enabled"] = false,
            ["enable_auto_assignment"] = true,
            ["auto_assignment_config"] = new JsonObject(),
            ["out_of_office_message"] = null,
            ["working_hours"] = new JsonArray(),
            ["timezone"] = "UTC",
            ["callback_webhook_url"] = null,
            ["allow_messages_after_resolved"] = true,
            ["lock_to_single_conversation"] = false,
            ["sender_name_type"] = "friendly",
            ["business_name"] = null,
            ["webhook_url"] = inbox.WebhookUrl,
            ["inbox_identifier"] = inbox.InboxIdentifier,
            ["additional_attributes"] = new JsonObject(),
            ["hmac_mandatory"] = false,
        };
        if (admin)
        {
            json["hmac_token"] = inbox.HmacToken;
            json["secret"] = inbox.Secret;
        }

        return json;
    }

    private JsonObject TeamJson(StoredTeam team, StoredUser? caller) => new()
    {
        ["id"] = team.Id,
        ["name"] = team.Name,
        ["description"] = team.Description,
        ["allow_auto_assign"] = team.AllowAutoAssign,
        ["account_id"] = AccountId,
        ["is_member"] = caller is not null && teamMembers[team.Id].Contains(caller.Id),
    };

    private JsonArray Agents(IEnumerable<long> ids) => new([.. ids.Select(id => (JsonNode?)AgentJson(users[id]))]);

    private JsonObject AgentJson(StoredUser user) => new()
    {
        ["id"] = user.Id,
        ["account_id"] = AccountId,
        ["availability_status"] = "offline",
        ["auto_offline"] = true,
        ["confirmed"] = true,
        ["email"] = user.Email,
        ["provider"] = "email",
        ["available_name"] = user.Name,
        ["name"] = user.Name,
        ["role"] = accountUsers.TryGetValue(user.Id, out var membership) ? membership.Role : ChatwootRoles.Agent,
        ["thumbnail"] = "",
        ["custom_role_id"] = null,
    };

    private JsonObject PortalJson(StoredPortal portal)
    {
        var mine = categories.Values.Where(c => c.PortalId == portal.Id).ToList();
        return new JsonObject
        {
            ["id"] = portal.Id,
            ["color"] = portal.Color,
            ["custom_domain"] = portal.CustomDomain,
            ["header_text"] = null,
            ["homepage_link"] = null,
            ["name"] = portal.Name,
            ["page_title"] = null,
            ["slug"] = portal.Slug,
            ["archived"] = false,
            ["account_id"] = portal.AccountId,
            ["config"] = new JsonObject
            {
                // Sent as strings, answered as objects with counts.
                ["allowed_locales"] = new JsonArray([.. portal.AllowedLocales.Select(locale => (JsonNode?)new JsonObject
                {
                    ["code"] = locale,
                    ["articles_count"] = 0,
                    ["categories_count"] = mine.Count(c => c.Locale == locale),
                    ["draft"] = false,
                })]),
                ["default_locale"] = portal.DefaultLocale,
            },
            ["meta"] = new JsonObject
            {
                ["all_articles_count"] = 0,
                ["archived_articles_count"] = 0,
                ["published_count"] = 0,
                ["draft_articles_count"] = 0,
                ["categories_count"] = mine.Count,
                ["default_locale"] = portal.DefaultLocale,
            },
        };
    }

    private JsonObject CategoryJson(StoredCategory category) => new()
    {
        ["id"] = category.Id,
        ["name"] = category.Name,
        ["slug"] = category.Slug,
        ["locale"] = category.Locale,
        ["description"] = category.Description,
        ["position"] = category.Position,
        ["account_id"] = AccountId,
        ["icon"] = "",
        ["icon_color"] = null,
        ["related_categories"] = new JsonArray(),
        ["meta"] = new JsonObject { ["articles_count"] = 0 },
    };

    private JsonObject RuleJson(StoredRule rule) => new()
    {
        ["id"] = rule.Id,
        ["account_id"] = AccountId,
        ["name"] = rule.Name,
        ["description"] = rule.Description,
        ["event_name"] = rule.EventName,
        ["conditions"] = rule.Conditions,
        ["actions"] = rule.Actions,
        ["created_on"] = clock.GetUtcNow().ToUnixTimeSeconds(),
        ["active"] = rule.Active,
    };

    private JsonObject PlatformUserJson(StoredUser user)
    {
        var membership = accountUsers.GetValueOrDefault(user.Id);
        return new JsonObject
        {
            ["access_token"] = user.AccessToken,
            ["account_id"] = membership is null ? null : AccountId,
            ["available_name"] = user.Name,
            ["avatar_url"] = "",
            ["confirmed"] = true,
            ["display_name"] = null,
            ["message_signature"] = null,
            ["email"] = user.Email,
            ["id"] = user.Id,
            ["name"] = user.Name,
            ["provider"] = "email",
            ["pubsub_token"] = "pubsub-" + user.Id.ToString(CultureInfo.InvariantCulture),
            ["role"] = membership?.Role,
            ["ui_settings"] = new JsonObject(),
            ["uid"] = user.Email,
            ["accounts"] = membership is null
                ? new JsonArray()
                : new JsonArray(new JsonObject { ["id"] = AccountId, ["name"] = "Decent Cloud", ["active_at"] = null, ["role"] = membership.Role }),
        };
    }

    private static string SecureToken() => RandomNumberGenerator.GetString("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", 24);

    private static string? Str(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool? Bool(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;

    private static Reply Json(int status, JsonNode body) => new(status, "application/json; charset=utf-8", body.ToJsonString());

    private static Reply Payload(JsonNode payload) => Json(200, new JsonObject { ["payload"] = payload });

    private static Reply Error(int status, string error) => Json(status, new JsonObject { ["error"] = error });

    private static Reply Invalid(string message, string[] attributes) =>
        Json(422, new JsonObject { ["message"] = message, ["attributes"] = new JsonArray([.. attributes.Select(a => (JsonNode?)JsonValue.Create(a))]) });

    private static Reply ParameterMissing(string wrapper) => Error(422, $"param is missing or the value is empty: {wrapper}");

    private static Reply Text(int status, string text) => new(status, "text/plain; charset=utf-8", text);

    [GeneratedRegex("^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")]
    private static partial Regex ColorPattern();

    private sealed record Call(ChatwootOperation Operation, StoredUser? Caller, JsonElement Body, IQueryCollection Query);

    private sealed record Reply(int Status, string? ContentType, string Body);

    private sealed record FailureRule(string Match, int? Status, bool AfterApplying, TimeSpan Delay)
    {
        public int Left { get; set; }

        public ChatwootHold? Hold { get; init; }

        public string? Mentioning { get; init; }
    }
}

/// <summary>A request the stand-in holds (<see cref="ChatwootStandIn.HoldNext"/>).</summary>
public sealed class ChatwootHold
{
    private readonly TaskCompletionSource arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the held request has arrived.</summary>
    public Task Arrived => arrived.Task;

    internal Task Released => released.Task;

    public void Release() => released.TrySetResult();

    internal void Arrive() => arrived.TrySetResult();
}
