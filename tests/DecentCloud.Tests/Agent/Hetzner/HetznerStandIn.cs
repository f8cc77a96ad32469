using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DecentCloud.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace DecentCloud.Tests.Agent.Hetzner;

/// <summary>One request the stand-in received (the token is kept only as whether it was the right one).</summary>
public sealed record HetznerRequest(string Method, string Path, string Query, string? Body, bool Authorized)
{
    public DateTimeOffset At { get; } = DateTimeOffset.UtcNow;
}

/// <summary>A failure the next matching request gets instead of (or after) its normal handling.</summary>
public abstract record HetznerFault
{
    /// <summary>429 <c>rate_limit_exceeded</c> with the rate-limit headers: none left, the bucket full again in <paramref name="ResetSeconds"/>.</summary>
    public sealed record RateLimited(int ResetSeconds = 1) : HetznerFault;

    /// <summary>An error answer; nothing is done.</summary>
    public sealed record Error(int Status, string Code, string Message) : HetznerFault;

    /// <summary>The request is carried out, but the answer comes only after <paramref name="Delay"/> (the client has given up by then).</summary>
    public sealed record Slow(TimeSpan Delay) : HetznerFault;

    /// <summary>The request is carried out, then answered with a 500 <c>server_error</c> (the client cannot tell it was done).</summary>
    public sealed record DoneThenServerError : HetznerFault;
}

/// <summary>
/// An in-process stand-in of the Hetzner Cloud API (<c>/v1</c>) that keeps servers, SSH keys and actions, answers as
/// hetzner-subset.json says (bodies, status codes, the <c>{"error": {code, message, details}}</c> shape, paging meta,
/// rate-limit headers), checks every request against it (path, method, query parameters, body) and its own answers too,
/// and lists each mismatch in <see cref="Violations"/>. Failures are injected per request with <see cref="Inject"/>.
/// </summary>
public sealed partial class HetznerStandIn : IAsyncDisposable
{
    public const string Token = "hz-test-token-3f9c2a7e51b84d06";
    public const string ReadOnlyToken = "hz-readonly-token-88aa11bb";
    public const int RateLimitLimit = 3600;

    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly WebApplication app;
    private readonly HetznerContract contract = HetznerContract.Load();
    private readonly Lock gate = new();
    private readonly Dictionary<long, Server> servers = [];
    private readonly Dictionary<long, SshKey> keys = [];
    private readonly Dictionary<long, ActionState> actions = [];
    private readonly List<(string Method, string PathPrefix, HetznerFault Fault)> faults = [];
    private readonly ConcurrentQueue<HetznerRequest> requests = new();
    private readonly ConcurrentQueue<string> violations = new();
    private long nextId = 4_200;

    /// <summary>The project's rate-limit bucket: one request back every 3600 / limit seconds, as the API documents.</summary>
    private double bucket = RateLimitLimit;
    private DateTimeOffset refilledAt = DateTimeOffset.UtcNow;

    private HetznerStandIn(WebApplication app)
    {
        this.app = app;
        app.Run(HandleAsync);
    }

    public Uri BaseUrl => new(LoopbackServer.AddressOf(app), "v1/");

    public IReadOnlyList<HetznerRequest> Requests => [.. requests];

    /// <summary>Requests that broke the contract, and answers of the stand-in's own that did ("answer: ...").</summary>
    public IReadOnlyList<string> Violations => [.. violations];

    /// <summary>How many times an action is read as <c>running</c> before it ends.</summary>
    public int ActionPolls { get; set; } = 1;

    /// <summary>When set, the next <c>create_server</c> action ends in this error (the server is made, its build fails).</summary>
    public (string Code, string Message)? FailNextCreateAction { get; set; }

    /// <summary>The server types, images and locations the project can use.</summary>
    public static IReadOnlyList<(string Name, string Architecture, bool Deprecated, string[] Locations)> ServerTypes { get; } =
    [
        ("cx22", "x86", false, ["nbg1", "fsn1", "hel1"]),
        ("cax11", "arm", false, ["nbg1", "fsn1"]),
        ("cx11", "x86", true, ["nbg1"]),
    ];

    public static IReadOnlyList<(string Name, string Architecture)> Images { get; } =
        [("ubuntu-24.04", "x86"), ("ubuntu-24.04", "arm"), ("debian-12", "x86"), ("debian-12", "arm")];

    public static IReadOnlyList<string> Locations { get; } = ["nbg1", "fsn1", "hel1"];

    public static async Task<HetznerStandIn> StartAsync()
    {
        var standIn = new HetznerStandIn(LoopbackServer.CreateBuilder().Build());
        await standIn.app.StartAsync();
        return standIn;
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();

    /// <summary>The next <paramref name="times"/> requests with this method whose path (under /v1) starts with the prefix get the fault.</summary>
    public void Inject(string method, string pathPrefix, HetznerFault fault, int times = 1)
    {
        lock (gate)
        {
            for (var i = 0; i < times; i++)
            {
                faults.Add((method, pathPrefix, fault));
            }
        }
    }

    /// <summary>A server as if made earlier (by a run that crashed before reporting it).</summary>
    public long AddServer(string name, IReadOnlyDictionary<string, string> labels, string status = "running")
    {
        lock (gate)
        {
            var server = NewServer(name, "cx22", "ubuntu-24.04", "x86", "nbg1", new Dictionary<string, string>(labels), status);
            if (status is "initializing" or "starting")
            {
                NewAction("start_server", server.Id, "server", () => server.Status = "running");
            }
            return server.Id;
        }
    }

    public IReadOnlyList<ServerView> Servers
    {
        get
        {
            lock (gate)
            {
                return [.. servers.Values.Select(s => new ServerView(s.Id, s.Name, s.Status, s.ServerType, s.Image, s.Location, s.UserData, s.SshKeys, new Dictionary<string, string>(s.Labels)))];
            }
        }
    }

    public IReadOnlyList<SshKeyView> SshKeys
    {
        get
        {
            lock (gate)
            {
                return [.. keys.Values.Select(k => new SshKeyView(k.Id, k.Name, k.Fingerprint, new Dictionary<string, string>(k.Labels)))];
            }
        }
    }

    public long AddSshKey(string name, string publicKey, IReadOnlyDictionary<string, string> labels)
    {
        lock (gate)
        {
            var key = new SshKey(++nextId, name, Fingerprint(publicKey)!, publicKey, new Dictionary<string, string>(labels));
            keys[key.Id] = key;
            return key.Id;
        }
    }

    public sealed record ServerView(long Id, string Name, string Status, string ServerType, string Image, string? Location, string? UserData, IReadOnlyList<long> SshKeys, IReadOnlyDictionary<string, string> Labels);

    public sealed record SshKeyView(long Id, string Name, string Fingerprint, IReadOnlyDictionary<string, string> Labels);

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var body = await new StreamReader(request.Body).ReadToEndAsync(context.RequestAborted);
        var authorization = request.Headers.Authorization.ToString();
        var token = authorization.StartsWith("Bearer ", StringComparison.Ordinal) ? authorization["Bearer ".Length..] : null;
        var path = request.Path.Value ?? "";
        requests.Enqueue(new HetznerRequest(request.Method, path, request.QueryString.Value ?? "", body.Length == 0 ? null : body, token == Token));

        var (status, answer) = await AnswerAsync(request.Method, path, request, token, body, context.RequestAborted);
        double left;
        var now = DateTimeOffset.UtcNow;
        lock (gate)
        {
            Refill();
            left = bucket;
        }
        context.Response.StatusCode = status;
        context.Response.Headers["RateLimit-Limit"] = RateLimitLimit.ToString(CultureInfo.InvariantCulture);
        context.Response.Headers["RateLimit-Remaining"] = ((int)Math.Floor(left)).ToString(CultureInfo.InvariantCulture);
        context.Response.Headers["RateLimit-Reset"] = (now.ToUnixTimeSeconds() + (long)Math.Ceiling((RateLimitLimit - left) * 3600.0 / RateLimitLimit)).ToString(CultureInfo.InvariantCulture);
        if (answer is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer.ToJsonString(), context.RequestAborted);
        }
    }

    private async Task<(int Status, JsonNode? Body)> AnswerAsync(
        string method, string path, HttpRequest request, string? token, string body, CancellationToken cancellationToken)
    {
        if (!path.StartsWith("/v1/", StringComparison.Ordinal))
        {
            violations.Enqueue($"{method} {path}: not under /v1");
            return (404, ErrorBody("not_found", "not found"));
        }
        var relative = path["/v1".Length..];
        var operation = contract.Find(method, relative);
        if (operation is null)
        {
            violations.Enqueue($"{method} {relative}: no such operation in the spec subset");
            return contract.HasPath(relative) ? (405, ErrorBody("method_not_allowed", "method not allowed")) : (404, ErrorBody("not_found", "not found"));
        }

        JsonElement? json = null;
        if (body.Length > 0)
        {
            if (request.ContentType?.StartsWith("application/json", StringComparison.Ordinal) != true)
            {
                violations.Enqueue($"{method} {relative}: a body with Content-Type '{request.ContentType}', not application/json");
            }
            try
            {
                json = JsonDocument.Parse(body).RootElement.Clone();
            }
            catch (JsonException ex)
            {
                violations.Enqueue($"{method} {relative}: the body is not JSON ({ex.Message})");
                return Answer(operation, 400, ErrorBody("json_error", "invalid JSON"));
            }
        }
        var query = request.Query.ToDictionary(q => q.Key, q => q.Value.Select(v => v ?? "").ToArray(), StringComparer.Ordinal);
        var problems = contract.CheckRequest(operation, query, json);
        foreach (var problem in problems)
        {
            violations.Enqueue($"{method} {relative}: {problem}");
        }
        if (problems.Count > 0)
        {
            return Answer(operation, 422, ErrorBody("invalid_input", $"invalid input: {problems[0]}"));
        }

        if (token != Token && token != ReadOnlyToken)
        {
            return Answer(operation, 401, ErrorBody("unauthorized", "unable to authenticate"));
        }
        if (token == ReadOnlyToken && method != "GET")
        {
            return Answer(operation, 401, ErrorBody("token_readonly", "The token you are using is read only. Please use a token with read & write permissions."));
        }

        var fault = TakeFault(method, relative);
        lock (gate)
        {
            Refill();
            if (fault is HetznerFault.RateLimited)
            {
                bucket = 0;
            }
            if (bucket < 1)
            {
                return Answer(operation, 429, ErrorBody("rate_limit_exceeded", "limit of 3600 requests per hour reached"));
            }
            bucket -= 1;
        }
        switch (fault)
        {
            case HetznerFault.Error error:
                return Answer(operation, error.Status, ErrorBody(error.Code, error.Message));
        }

        (int Status, JsonNode? Body) handled;
        lock (gate)
        {
            handled = Handle(operation, query, json);
        }
        switch (fault)
        {
            case HetznerFault.Slow slow:
                await Task.Delay(slow.Delay, CancellationToken.None);
                break;
            case HetznerFault.DoneThenServerError:
                return Answer(operation, 500, ErrorBody("server_error", "internal server error"));
        }
        return Answer(operation, handled.Status, handled.Body);
    }

    private (int, JsonNode?) Answer(HetznerOperation operation, int status, JsonNode? body)
    {
        foreach (var problem in contract.CheckResponse(operation, status, body is null ? null : JsonDocument.Parse(body.ToJsonString()).RootElement.Clone()))
        {
            violations.Enqueue($"answer of {operation.Key}: {problem}");
        }
        return (status, body);
    }

    private void Refill()
    {
        var now = DateTimeOffset.UtcNow;
        bucket = Math.Min(RateLimitLimit, bucket + (now - refilledAt).TotalSeconds * RateLimitLimit / 3600.0);
        refilledAt = now;
    }

    private HetznerFault? TakeFault(string method, string path)
    {
        lock (gate)
        {
            var index = faults.FindIndex(f => f.Method == method && path.StartsWith(f.PathPrefix, StringComparison.Ordinal));
            if (index < 0)
            {
                return null;
            }
            var fault = faults[index].Fault;
            faults.RemoveAt(index);
            return fault;
        }
    }

    private (int Status, JsonNode? Body) Handle(HetznerOperation operation, Dictionary<string, string[]> query, JsonElement? body)
    {
        switch (operation.OperationId)
        {
            case "list_servers":
                return Page("servers", servers.Values
                    .Where(s => One(query, "name") is not { } name || s.Name == name)
                    .Where(s => One(query, "label_selector") is not { } selector || Matches(s.Labels, selector))
                    .Where(s => !query.TryGetValue("status", out var statuses) || statuses.Contains(s.Status))
                    .OrderBy(s => s.Id).Select(ServerJson), query);
            case "get_server":
                // Hetzner works on its actions whether or not anyone reads them: reading the server moves its actions on too.
                foreach (var pending in actions.Values.Where(a => a.Resource == operation.Id && a.Status == "running").OrderBy(a => a.Id).ToList())
                {
                    Advance(pending);
                }
                return servers.TryGetValue(operation.Id, out var found) ? (200, new JsonObject { ["server"] = ServerJson(found) }) : NotFound("server", operation.Id);
            case "create_server":
                return CreateServer(body!.Value);
            case "delete_server":
                if (!servers.TryGetValue(operation.Id, out var deleted))
                {
                    return NotFound("server", operation.Id);
                }
                deleted.Status = "deleting";
                return (200, new JsonObject { ["action"] = NewAction("delete_server", deleted.Id, "server", () => servers.Remove(deleted.Id)) });
            case "poweroff_server":
            case "poweron_server":
                if (!servers.TryGetValue(operation.Id, out var powered))
                {
                    return NotFound("server", operation.Id);
                }
                var on = operation.OperationId == "poweron_server";
                return (201, new JsonObject { ["action"] = NewAction(on ? "start_server" : "stop_server", powered.Id, "server", () => powered.Status = on ? "running" : "off") });
            case "reset_server_password":
                if (!servers.TryGetValue(operation.Id, out var reset))
                {
                    return NotFound("server", operation.Id);
                }
                reset.RootPassword = RandomNumberGenerator.GetHexString(20);
                return (201, new JsonObject { ["root_password"] = reset.RootPassword, ["action"] = NewAction("reset_password", reset.Id, "server", () => { }) });
            case "get_action":
                return actions.TryGetValue(operation.Id, out var action) ? (200, new JsonObject { ["action"] = Advance(action) }) : NotFound("action", operation.Id);
            case "list_ssh_keys":
                return Page("ssh_keys", keys.Values
                    .Where(k => One(query, "name") is not { } name || k.Name == name)
                    .Where(k => One(query, "fingerprint") is not { } fingerprint || k.Fingerprint == fingerprint)
                    .Where(k => One(query, "label_selector") is not { } selector || Matches(k.Labels, selector))
                    .OrderBy(k => k.Id).Select(SshKeyJson), query);
            case "create_ssh_key":
                return CreateSshKey(body!.Value);
            case "delete_ssh_key":
                return keys.Remove(operation.Id) ? (204, null) : NotFound("ssh_key", operation.Id);
            case "list_server_types":
                return Page("server_types", ServerTypes.Select((t, i) => (t, i))
                    .Where(x => One(query, "name") is not { } name || x.t.Name == name)
                    .Select(x => ServerTypeJson(x.i)), query);
            case "list_images":
                return Page("images", Images.Select((image, i) => (image, i))
                    .Where(x => One(query, "name") is not { } name || x.image.Name == name)
                    .Where(x => One(query, "architecture") is not { } architecture || x.image.Architecture == architecture)
                    .Select(x => ImageJson(x.i)), query);
            case "list_locations":
                return Page("locations", Locations.Select((l, i) => (l, i))
                    .Where(x => One(query, "name") is not { } name || x.l == name)
                    .Select(x => LocationJson(x.i)), query);
            default:
                throw new InvalidOperationException($"the stand-in does not answer {operation.OperationId}");
        }
    }

    private (int, JsonNode?) CreateServer(JsonElement body)
    {
        var name = body.GetProperty("name").GetString()!;
        var typeName = body.GetProperty("server_type").GetString()!;
        var imageName = body.GetProperty("image").GetString()!;
        var location = body.TryGetProperty("location", out var l) ? l.GetString() : null;
        var userData = body.TryGetProperty("user_data", out var u) ? u.GetString() : null;
        var labels = body.TryGetProperty("labels", out var ls) ? ls.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal) : [];

        if (!Hostname().IsMatch(name))
        {
            return Invalid("name", "is not a valid hostname");
        }
        if (servers.Values.Any(s => s.Name == name))
        {
            return (409, ErrorBody("uniqueness_error", "server name is already used", new JsonObject { ["fields"] = new JsonArray(new JsonObject { ["name"] = "name" }) }));
        }
        var type = ServerTypes.FirstOrDefault(t => t.Name == typeName);
        if (type.Name is null)
        {
            return Invalid("server_type", "server type not found");
        }
        if (!Images.Any(i => i.Name == imageName && i.Architecture == type.Architecture))
        {
            return Invalid("image", "image not found");
        }
        if (location is not null && !type.Locations.Contains(location))
        {
            return (412, ErrorBody("resource_unavailable", $"server type {typeName} is unavailable in {location}"));
        }
        if (userData is { Length: > 32 * 1024 })
        {
            return Invalid("user_data", "is too long");
        }
        if (labels.Any(pair => !LabelKey().IsMatch(pair.Key) || !(pair.Value.Length == 0 || LabelValue().IsMatch(pair.Value))))
        {
            return Invalid("labels", "invalid label");
        }
        var sshKeyIds = new List<long>();
        if (body.TryGetProperty("ssh_keys", out var requested))
        {
            foreach (var reference in requested.EnumerateArray().Select(r => r.GetString()!))
            {
                var key = keys.Values.FirstOrDefault(k => k.Name == reference || k.Id.ToString(CultureInfo.InvariantCulture) == reference);
                if (key is null)
                {
                    return Invalid("ssh_keys", $"ssh key {reference} not found");
                }
                sshKeyIds.Add(key.Id);
            }
        }

        var server = NewServer(name, typeName, imageName, type.Architecture, location ?? type.Locations[0], labels, "initializing");
        server.UserData = userData;
        server.SshKeys = sshKeyIds;
        var failure = FailNextCreateAction;
        FailNextCreateAction = null;
        var create = NewAction("create_server", server.Id, "server", () => server.Status = failure is null ? "starting" : "off", failure);
        var start = NewAction("start_server", server.Id, "server", () => server.Status = failure is null ? "running" : "off", failure is null ? null : ("action_failed", "the server was not created"));
        server.RootPassword = sshKeyIds.Count == 0 ? RandomNumberGenerator.GetHexString(20) : null;
        return (201, new JsonObject
        {
            ["server"] = ServerJson(server),
            ["action"] = create,
            ["next_actions"] = new JsonArray(start),
            ["root_password"] = server.RootPassword,
        });
    }

    private (int, JsonNode?) CreateSshKey(JsonElement body)
    {
        var name = body.GetProperty("name").GetString()!;
        var publicKey = body.GetProperty("public_key").GetString()!;
        var labels = body.TryGetProperty("labels", out var ls) ? ls.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal) : [];
        if (Fingerprint(publicKey) is not { } fingerprint)
        {
            return Invalid("public_key", "invalid public key");
        }
        if (keys.Values.Any(k => k.Name == name))
        {
            return (409, ErrorBody("uniqueness_error", "SSH key with the same name already exists", new JsonObject { ["fields"] = new JsonArray(new JsonObject { ["name"] = "name" }) }));
        }
        if (keys.Values.Any(k => k.Fingerprint == fingerprint))
        {
            return (409, ErrorBody("uniqueness_error", "SSH key with the same fingerprint already exists", new JsonObject { ["fields"] = new JsonArray(new JsonObject { ["name"] = "public_key" }) }));
        }
        var key = new SshKey(++nextId, name, fingerprint, publicKey, labels);
        keys[key.Id] = key;
        return (201, new JsonObject { ["ssh_key"] = SshKeyJson(key) });
    }

    private Server NewServer(string name, string type, string image, string architecture, string location, Dictionary<string, string> labels, string status)
    {
        var id = ++nextId;
        var server = new Server(id, name, type, image, architecture, location, labels, $"203.0.113.{id % 250 + 1}", $"2001:db8:{id:x}::/64") { Status = status };
        servers[id] = server;
        return server;
    }

    private JsonObject NewAction(string command, long resource, string type, Action onSuccess, (string Code, string Message)? failure = null)
    {
        var action = new ActionState(++nextId, command, resource, type, onSuccess, failure);
        actions[action.Id] = action;
        return ActionJson(action);
    }

    private JsonObject Advance(ActionState action)
    {
        if (action.Status == "running" && ++action.Polls >= ActionPolls)
        {
            action.Status = action.Failure is null ? "success" : "error";
            action.Finished = DateTimeOffset.UtcNow;
            action.OnSuccess();
        }
        return ActionJson(action);
    }

    private static JsonObject ActionJson(ActionState action) => new()
    {
        ["id"] = action.Id,
        ["command"] = action.Command,
        ["status"] = action.Status,
        ["progress"] = action.Status == "running" ? 50 : 100,
        ["started"] = Epoch.ToString("o", CultureInfo.InvariantCulture),
        ["finished"] = action.Finished?.ToString("o", CultureInfo.InvariantCulture),
        ["resources"] = new JsonArray(new JsonObject { ["id"] = action.Resource, ["type"] = action.ResourceType }),
        ["error"] = action.Status == "error" && action.Failure is { } failure ? new JsonObject { ["code"] = failure.Code, ["message"] = failure.Message } : null,
    };

    private static (int, JsonNode?) Page(string property, IEnumerable<JsonObject> all, Dictionary<string, string[]> query)
    {
        var items = all.ToList();
        var page = One(query, "page") is { } p ? int.Parse(p, CultureInfo.InvariantCulture) : 1;
        var perPage = Math.Min(One(query, "per_page") is { } pp ? int.Parse(pp, CultureInfo.InvariantCulture) : 25, 50);
        var last = Math.Max(1, (items.Count + perPage - 1) / perPage);
        return (200, new JsonObject
        {
            [property] = new JsonArray([.. items.Skip((page - 1) * perPage).Take(perPage)]),
            ["meta"] = new JsonObject
            {
                ["pagination"] = new JsonObject
                {
                    ["page"] = page,
                    ["per_page"] = perPage,
                    ["previous_page"] = page > 1 ? page - 1 : null,
                    ["next_page"] = page < last ? page + 1 : null,
                    ["last_page"] = last,
                    ["total_entries"] = items.Count,
                },
            },
        });
    }

    private static string? One(Dictionary<string, string[]> query, string name) => query.TryGetValue(name, out var values) ? values[0] : null;

    /// <summary>The label selector syntax the API takes: <c>k=v</c>, <c>k!=v</c>, <c>k</c>, <c>!k</c>, comma for AND.</summary>
    private static bool Matches(Dictionary<string, string> labels, string selector) =>
        selector.Split(',').All(term => term.Trim() switch
        {
            var t when t.Contains("!=", StringComparison.Ordinal) => labels.GetValueOrDefault(t[..t.IndexOf("!=", StringComparison.Ordinal)]) != t[(t.IndexOf("!=", StringComparison.Ordinal) + 2)..],
            var t when t.Contains('=', StringComparison.Ordinal) => labels.GetValueOrDefault(t[..t.IndexOf('=', StringComparison.Ordinal)]) == t[(t.IndexOf('=', StringComparison.Ordinal) + 1)..],
            ['!', .. var key] => !labels.ContainsKey(key),
            var key => labels.ContainsKey(key),
        });

    private static (int, JsonNode?) NotFound(string what, long id) => (404, ErrorBody("not_found", $"{what} with ID '{id}' not found"));

    private static (int, JsonNode?) Invalid(string field, string message) =>
        (422, ErrorBody("invalid_input", $"invalid input in field '{field}'", new JsonObject
        {
            ["fields"] = new JsonArray(new JsonObject { ["name"] = field, ["messages"] = new JsonArray(message) }),
        }));

    private static JsonObject ErrorBody(string code, string message, JsonObject? details = null) =>
        new() { ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["details"] = details } };

    public static string? Fingerprint(string publicKey)
    {
        var parts = publicKey.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2 || !parts[0].StartsWith("ssh-", StringComparison.Ordinal) && !parts[0].StartsWith("ecdsa-", StringComparison.Ordinal))
        {
            return null;
        }
        try
        {
#pragma warning disable CA5351 // Hetzner's fingerprint is an MD5.
            return string.Join(':', MD5.HashData(Convert.FromBase64String(parts[1])).Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
#pragma warning restore CA5351
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private JsonObject ServerJson(Server server)
    {
        var typeIndex = ServerTypes.Select((t, i) => (t, i)).First(x => x.t.Name == server.ServerType).i;
        var imageIndex = Images.Select((image, i) => (image, i)).First(x => x.image.Name == server.Image && x.image.Architecture == server.Architecture).i;
        var locationIndex = Locations.Select((l, i) => (l, i)).First(x => x.l == server.Location).i;
        return new JsonObject
        {
            ["id"] = server.Id,
            ["name"] = server.Name,
            ["status"] = server.Status,
            ["created"] = Epoch.ToString("o", CultureInfo.InvariantCulture),
            ["public_net"] = new JsonObject
            {
                ["ipv4"] = new JsonObject { ["id"] = server.Id + 1_000_000, ["ip"] = server.Ipv4, ["blocked"] = false, ["dns_ptr"] = $"static.{server.Ipv4}.clients.your-server.de" },
                ["ipv6"] = new JsonObject { ["id"] = server.Id + 2_000_000, ["ip"] = server.Ipv6Network, ["blocked"] = false, ["dns_ptr"] = new JsonArray() },
                ["floating_ips"] = new JsonArray(),
                ["firewalls"] = new JsonArray(),
            },
            ["private_net"] = new JsonArray(),
            ["server_type"] = ServerTypeJson(typeIndex),
            ["location"] = LocationJson(locationIndex),
            ["datacenter"] = new JsonObject
            {
                ["id"] = locationIndex + 1,
                ["name"] = $"{server.Location}-dc3",
                ["description"] = $"{server.Location} virtual DC 3",
                ["location"] = LocationJson(locationIndex),
                ["server_types"] = new JsonObject { ["supported"] = new JsonArray(1, 2, 3), ["available"] = new JsonArray(1, 2), ["available_for_migration"] = new JsonArray(1, 2) },
            },
            ["image"] = ImageJson(imageIndex),
            ["iso"] = null,
            ["rescue_enabled"] = false,
            ["locked"] = false,
            ["backup_window"] = null,
            ["outgoing_traffic"] = 0,
            ["ingoing_traffic"] = 0,
            ["included_traffic"] = 21990232555520,
            ["protection"] = new JsonObject { ["delete"] = false, ["rebuild"] = false },
            ["labels"] = new JsonObject([.. server.Labels.Select(pair => KeyValuePair.Create(pair.Key, (JsonNode?)pair.Value))]),
            ["volumes"] = new JsonArray(),
            ["load_balancers"] = new JsonArray(),
            ["primary_disk_size"] = 40,
        };
    }

    private static JsonObject ServerTypeJson(int index)
    {
        var (name, architecture, deprecated, locations) = ServerTypes[index];
        static JsonObject Price(string amount) => new() { ["net"] = amount, ["gross"] = amount };
        return new JsonObject
        {
            ["id"] = index + 1,
            ["name"] = name,
            ["description"] = name.ToUpperInvariant(),
            ["cores"] = 2,
            ["memory"] = 4,
            ["disk"] = 40,
            ["deprecated"] = deprecated,
            ["prices"] = new JsonArray([.. locations.Select(l => (JsonNode?)new JsonObject
            {
                ["location"] = l,
                ["price_hourly"] = Price("0.0060000000000000"),
                ["price_monthly"] = Price("3.7900000000000000"),
                ["included_traffic"] = 21990232555520,
                ["price_per_tb_traffic"] = Price("1.0000000000000000"),
            })]),
            ["storage_type"] = "local",
            ["cpu_type"] = "shared",
            ["category"] = "cost_optimized",
            ["architecture"] = architecture,
            ["deprecation"] = deprecated ? new JsonObject { ["unavailable_after"] = "2026-09-01T00:00:00+00:00", ["announced"] = "2026-03-01T00:00:00+00:00" } : null,
            ["locations"] = new JsonArray([.. locations.Select(l => (JsonNode?)new JsonObject
            {
                ["id"] = Array.IndexOf([.. Locations], l) + 1,
                ["name"] = l,
                ["deprecation"] = null,
                ["recommended"] = l == locations[0],
                ["available"] = true,
            })]),
        };
    }

    private static JsonObject ImageJson(int index)
    {
        var (name, architecture) = Images[index];
        return new JsonObject
        {
            ["id"] = index + 100,
            ["type"] = "system",
            ["status"] = "available",
            ["name"] = name,
            ["description"] = name,
            ["image_size"] = null,
            ["disk_size"] = 5,
            ["created"] = Epoch.ToString("o", CultureInfo.InvariantCulture),
            ["created_from"] = null,
            ["bound_to"] = null,
            ["os_flavor"] = name.Split('-')[0],
            ["os_version"] = name.Split('-')[1],
            ["rapid_deploy"] = true,
            ["protection"] = new JsonObject { ["delete"] = false },
            ["deprecated"] = null,
            ["deleted"] = null,
            ["labels"] = new JsonObject(),
            ["architecture"] = architecture,
        };
    }

    private static JsonObject LocationJson(int index) => new()
    {
        ["id"] = index + 1,
        ["name"] = Locations[index],
        ["description"] = $"Data center {Locations[index]}",
        ["country"] = Locations[index] == "hel1" ? "FI" : "DE",
        ["city"] = Locations[index] switch { "nbg1" => "Nuremberg", "fsn1" => "Falkenstein", _ => "Helsinki" },
        ["latitude"] = 49.452102,
        ["longitude"] = 11.076665,
        ["network_zone"] = Locations[index] == "hel1" ? "eu-central" : "eu-central",
    };

    private static JsonObject SshKeyJson(SshKey key) => new()
    {
        ["id"] = key.Id,
        ["name"] = key.Name,
        ["fingerprint"] = key.Fingerprint,
        ["public_key"] = key.PublicKey,
        ["labels"] = new JsonObject([.. key.Labels.Select(pair => KeyValuePair.Create(pair.Key, (JsonNode?)pair.Value))]),
        ["created"] = Epoch.ToString("o", CultureInfo.InvariantCulture),
    };

    [GeneratedRegex("^(?=.{1,63}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?$")]
    private static partial Regex Hostname();

    [GeneratedRegex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[a-zA-Z0-9]([-_.a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$")]
    private static partial Regex LabelKey();

    [GeneratedRegex("^[a-zA-Z0-9]([-_.a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$")]
    private static partial Regex LabelValue();

    private sealed class Server(long id, string name, string serverType, string image, string architecture, string location, Dictionary<string, string> labels, string ipv4, string ipv6Network)
    {
        public long Id { get; } = id;
        public string Name { get; } = name;
        public string ServerType { get; } = serverType;
        public string Image { get; } = image;
        public string Architecture { get; } = architecture;
        public string Location { get; } = location;
        public Dictionary<string, string> Labels { get; } = labels;
        public string Ipv4 { get; } = ipv4;
        public string Ipv6Network { get; } = ipv6Network;
        public required string Status { get; set; }
        public string? UserData { get; set; }
        public IReadOnlyList<long> SshKeys { get; set; } = [];
        public string? RootPassword { get; set; }
    }

    private sealed record SshKey(long Id, string Name, string Fingerprint, string PublicKey, Dictionary<string, string> Labels);

    private sealed class ActionState(long id, string command, long resource, string resourceType, Action onSuccess, (string Code, string Message)? failure)
    {
        public long Id { get; } = id;
        public string Command { get; } = command;
        public long Resource { get; } = resource;
        public string ResourceType { get; } = resourceType;
        public Action OnSuccess { get; } = onSuccess;
        public (string Code, string Message)? Failure { get; } = failure;
        public string Status { get; set; } = "running";
        public int Polls { get; set; }
        public DateTimeOffset? Finished { get; set; }
    }
}
