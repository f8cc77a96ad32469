using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DecentCloud.Functions.Billing.StripeIntegration;
using DecentCloud.Functions.Chatwoot.Webhooks;
using DecentCloud.Functions.Platform;
using DecentCloud.Functions.Platform.Http;
using DecentCloud.Functions.Identity;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Marketplace.Offerings;
using DecentCloud.Functions.Marketplace.Providers;
using DecentCloud.Functions.Operations;
using DecentCloud.Shared.Signing;
using DecentCloud.Tests.Billing;
using DecentCloud.Tests.Chatwoot.Webhooks;
using DecentCloud.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Xunit.Abstractions;

namespace DecentCloud.Tests.Hosting;

/// <summary>
/// Sends malformed requests to every HTTP route the function catalog lists, through the real host and Azurite: broken and
/// wrongly typed JSON, invalid UTF-8, lone surrogates, two documents, deep nesting, huge strings, ids and bodies, missing and
/// garbage headers. No answer may be a 5xx, a request whose body was the bad part may not be accepted, and nothing may be
/// stored. The cases come from a seeded Random: <c>FUZZ_SEED=n</c> repeats a run, and every failure names its seed.
/// </summary>
public sealed partial class FuzzTests(AzuriteFixture storage, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string ChatwootSecret = "fuzz-chatwoot-account-secret-3c9d7e";
    private const int OversizedBytes = (1024 * 1024) + 4096;

    /// <summary>Written by the host for requests it then refuses, by design; left out of "nothing stored".</summary>
    private static readonly HashSet<string> HostWritten = new(StringComparer.Ordinal)
    {
        // A verified signature's nonce is recorded before the function runs, so the same signed request cannot be replayed
        // even when the function then refuses its body (docs/signing.md); the fuzz signs most of its requests.
        NonceStore.TableName,

        // Every admin call is audited, refused ones included (docs/operations.md), and the fuzz calls admin routes with the master key.
        AdminAudit.TableName,
    };

    /// <summary>The host's own writes: the names above, and the task hub's queues, tables and containers, which its
    /// partition manager and dispatcher touch all the time (leases, polling); they all start with the hub's name.</summary>
    private static Func<string, bool> WrittenByHost(TestFunctionApp app) =>
        name => HostWritten.Contains(name) || name.StartsWith(app.Host.TaskHub!.TaskHubName, StringComparison.OrdinalIgnoreCase);

    [Fact]
    public async Task No_malformed_request_to_any_route_answers_5xx_is_accepted_or_stores_anything()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), CultureInfo.InvariantCulture, out var given) ? given : Random.Shared.Next();
        output.WriteLine($"Fuzz seed {seed}: FUZZ_SEED={seed} repeats this run.");
        var random = new Random(seed);

        await using var app = await StartAsync();
        var world = await SeedAsync(app);
        using var signed = app.SignedBy(world.Signer);
        var routes = Routes();
        var failures = new List<string>();
        var sent = 0;
        var clock = Stopwatch.StartNew();

        foreach (var route in routes)
        {
            var before = await StorageSnapshot.TakeAsync(storage.ConnectionString, WrittenByHost(app));
            var cases = Cases(route, world, random).ToList();
            var answers = new List<string>();
            foreach (var fuzz in cases)
            {
                var answer = await SendAsync(app, signed, route, fuzz);
                sent++;
                answers.Add($"{answer.Status} {fuzz}");
                if (answer.Failure is { } failure)
                {
                    failures.Add($"seed {seed}: {route.Function.Method} /api/{route.Function.Route}: {failure}\n    request: {fuzz}");
                }
            }

            var changes = (await StorageSnapshot.TakeAsync(storage.ConnectionString, WrittenByHost(app))).ChangesSince(before);
            if (changes.Count > 0)
            {
                failures.Add($"seed {seed}: {route.Function.Method} /api/{route.Function.Route} stored something: {string.Join("; ", changes)}\n    requests:\n      "
                    + string.Join("\n      ", answers));
            }
        }

        output.WriteLine($"{sent} requests to {routes.Count} routes in {clock.Elapsed.TotalSeconds:F1} s.");
        Assert.True(failures.Count == 0, $"{failures.Count} failures (seed {seed}):\n" + string.Join("\n", failures.Take(40)));
    }

    /// <summary>The app with every queue and timer function off: whatever changes in storage was done by an HTTP request.</summary>
    private Task<TestFunctionApp> StartAsync()
    {
        var settings = AppFunctions.OfThisApp.All.Where(f => f.Http is null).ToDictionary(f => $"AzureWebJobs.{f.Name}.Disabled", _ => (string?)"true");
        settings["CHATWOOT_WEBHOOK_SECRET"] = ChatwootSecret;
        // ICPay is optional per deployment (503 without its secret); configured here so its routes meet the fuzz inputs.
        settings["ICPAY_WEBHOOK_SECRET"] = "sk_test_icpay_secret_for_the_fuzz_test";
        return TestFunctionApp.StartAsync(storage.ConnectionString, settings: settings);
    }

    private sealed record World(Ed25519phKey Signer, string OfferingId, string ContractId);

    /// <summary>A provider (the signer of the fuzz's signed requests) with an offering, rented by another key: so ids can name real rows.</summary>
    private static async Task<World> SeedAsync(TestFunctionApp app)
    {
        var provider = Ed25519phKey.Generate();
        var renter = Ed25519phKey.Generate();
        using var asProvider = app.SignedBy(provider);
        using var asRenter = app.SignedBy(renter);
        (await asProvider.PostAsJsonAsync("api/v1/providers", new ProviderProfile("Fuzz Cloud", null, null, "support@fuzz.example", ["eu-central"], null, null))).EnsureSuccessStatusCode();
        (await asProvider.PutAsJsonAsync($"api/v1/accounts/{provider.PublicKeyHex}", new { contactEmail = "ops@fuzz.example" })).EnsureSuccessStatusCode();
        var offering = await asProvider.PostAsJsonAsync(
            $"api/v1/providers/{provider.PublicKeyHex}/offerings",
            new OfferingSpec("Small VM", "vm", 2, 4, 80, null, 1000, "DE", "Frankfurt", 1500, "EUR", 24, 720, "hetzner", "kv://hetzner/fsn1", 10));
        var offeringId = (await offering.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<OfferingView>())!.Id;
        var contract = await asRenter.PostAsJsonAsync("api/v1/contracts", new { providerPubkey = provider.PublicKeyHex, offeringId, hours = 48, sshKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM4SmLjN+5JbpBnwySSw+qstvbT+B1vz4L3vuwXZ2/hR fuzz" });
        var contractId = (await contract.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<ContractView>())!.Id;
        return new World(provider, offeringId, contractId);
    }

    private enum Auth
    {
        None,
        FunctionKey,
        MasterKey,

        // Signed functions that take the master key instead (SignedOrAdminHttp) are signed here: both open them.
        Signature,
        Stripe,
        Chatwoot,
    }

    private sealed record Route(HttpFunction Function, Auth Auth, IReadOnlyList<string> RouteNames, Type? BodyType, IReadOnlyList<string> QueryNames)
    {
        public WebhookShape? Webhook { get; } = Auth switch { Auth.Stripe => WebhookShape.Stripe(), Auth.Chatwoot => WebhookShape.Chatwoot(), _ => null };

        public bool ReadsBody => BodyType is not null || Webhook is not null;

        public bool Mutating => Function.Method != "GET";
    }

    /// <summary>Every HTTP function of the app, with what its attributes say about keys, signatures, body and query.</summary>
    private static List<Route> Routes()
    {
        var routes = new List<Route>();
        foreach (var app in AppFunctions.OfThisApp.All.Where(f => f.Http is not null).OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            var trigger = app.Http!;
            var function = new HttpFunction(app.Name, app.Method.DeclaringType!, trigger.Methods!.Single().ToUpperInvariant(), trigger.Route!, trigger.AuthLevel);
            var signed = app.Attribute<SignedAttribute>() is not null;
            var auth = function.Type == typeof(StripeWebhook) ? Auth.Stripe
                : function.Type == typeof(ChatwootWebhook) ? Auth.Chatwoot
                : signed ? Auth.Signature
                : function.Level switch { AuthorizationLevel.Admin => Auth.MasterKey, AuthorizationLevel.Function => Auth.FunctionKey, _ => Auth.None };
            var names = RouteParameter().Matches(function.Route).Select(m => m.Groups[1].Value).ToList();
            routes.Add(new Route(function, auth, names, app.Attribute<JsonBodyAttribute>()?.Type, app.Attribute<QueryAttribute>()?.Names ?? []));
        }

        return routes;
    }

    /// <summary>An HTTP function as its trigger declares it.</summary>
    private sealed record HttpFunction(string Name, Type Type, string Method, string Route, AuthorizationLevel Level);

    [GeneratedRegex(@"\{([^}:?=*]+)[^}]*\}")]
    private static partial Regex RouteParameter();

    private sealed record FuzzCase(string Kind, string Method, string Path, byte[]? Body, string? ContentType, IReadOnlyList<KeyValuePair<string, string>> Headers, bool Authenticate, bool Chunked = false)
    {
        /// <summary>True when the body is what is wrong with the request: the route must refuse it.</summary>
        public bool FuzzesBody { get; init; }

        public override string ToString()
        {
            var body = Body is null ? "no body" : $"{Body.Length} bytes {Preview(Body)}";
            var headers = Headers.Count == 0 ? "" : " headers " + string.Join(", ", Headers.Select(h => $"{h.Key}: {Shorten(h.Value)}"));
            return $"[{Kind}] {Method} /{Shorten(Path, 160)}{(Authenticate ? " (authenticated)" : "")}{(Chunked ? " (chunked)" : "")} content-type {ContentType ?? "none"}{headers}; {body}";
        }

        private static string Preview(byte[] body)
        {
            var text = new StringBuilder();
            foreach (var b in body.Take(80))
            {
                text.Append(b is >= 0x20 and < 0x7f ? ((char)b).ToString() : $"\\x{b:x2}");
            }

            return body.Length > 80 ? text + "…" : text.ToString();
        }

        private static string Shorten(string value, int length = 60) => value.Length <= length ? value : $"{value[..length]}…({value.Length} chars)";
    }

    private static IEnumerable<FuzzCase> Cases(Route route, World world, Random random)
    {
        var method = route.Function.Method;

        // Route values: each in turn replaced by a bad id, the others plausible.
        foreach (var name in route.RouteNames)
        {
            for (var i = 0; i < 3; i++)
            {
                var bad = Pick(random, BadRouteValues());
                yield return new FuzzCase("route value", method, PathOf(route, world, random, name, bad), null, null, [], Authenticate: true);
            }
        }

        // Bodies, with the route values and authentication right, so the body is what the route sees first.
        var bodies = BodyMakers();
        var makers = route.ReadsBody ? bodies.Concat(Enumerable.Range(0, 5).Select(_ => Pick(random, bodies))) : Enumerable.Range(0, 3).Select(_ => Pick(random, bodies));
        foreach (var make in makers)
        {
            var (kind, body, contentType, chunked) = make(random, route);
            yield return new FuzzCase(kind, method, PathOf(route, world, random), body, contentType, [], Authenticate: true, chunked) { FuzzesBody = true };
        }

        // Missing and garbage headers, on an otherwise plain request.
        var headerSets = BadHeaders(route);
        for (var i = 0; i < 6; i++)
        {
            var (kind, headers, authenticate) = Pick(random, headerSets);
            yield return new FuzzCase(kind, method, PathOf(route, world, random), Encoding.UTF8.GetBytes("{}"), "application/json", headers, authenticate);
        }

        // Query values, where Run reads any.
        foreach (var name in route.QueryNames)
        {
            for (var i = 0; i < 2; i++)
            {
                var bad = Pick(random, BadRouteValues());
                yield return new FuzzCase("query value", method, $"{PathOf(route, world, random)}?{name}={bad}", null, null, [], Authenticate: true);
            }
        }

        yield return new FuzzCase("repeated query", method, $"{PathOf(route, world, random)}?code=x&code=y&token=z&token=w", null, null, [], Authenticate: true);
    }

    /// <summary>
    /// The route with plausible values: the signer's key, the seeded offering or contract for reads. A write that reads no
    /// body gets ids that exist nowhere: with real ones it would legitimately do its work whatever else is wrong.
    /// </summary>
    private static string PathOf(Route route, World world, Random random, string? badName = null, string? badValue = null)
    {
        var writesWithoutBody = route.Mutating && !route.ReadsBody;
        return "api/" + RouteParameter().Replace(route.Function.Route, match =>
        {
            var name = match.Groups[1].Value;
            if (name == badName)
            {
                return badValue!;
            }

            return Uri.EscapeDataString(name switch
            {
                "pubkey" => route.Auth is Auth.MasterKey && writesWithoutBody ? Ed25519phKey.Generate().PublicKeyHex : world.Signer.PublicKeyHex,
                "id" when !writesWithoutBody => route.Function.Route.Contains("offerings", StringComparison.Ordinal) ? world.OfferingId : world.ContractId,
                "queue" => random.Next(2) == 0 ? StripeWebhook.QueueName : "no-such-queue",
                "userId" => "42",
                "fingerprint" => "SHA256:" + Convert.ToBase64String(Bytes(random, 32)).TrimEnd('='),
                "agentKey" => Ed25519phKey.Generate().PublicKeyHex,
                "number" => "CN-2026-000001",
                "sessionId" => "cs_test_fuzz",
                _ => Guid.NewGuid().ToString(),
            });
        });
    }

    /// <summary>Route or query values, escaped as they go on the wire; some are invalid escapes on purpose.</summary>
    private static string[] BadRouteValues() =>
    [
        Uri.EscapeDataString(new string('a', 257)),
        Uri.EscapeDataString(new string('a', 2000)),
        Uri.EscapeDataString(string.Concat(Enumerable.Repeat("€", 300))),
        Uri.EscapeDataString(new string('a', 10_000)),
        Uri.EscapeDataString("a/b"),
        Uri.EscapeDataString("a\\b"),
        Uri.EscapeDataString("a#b"),
        Uri.EscapeDataString("a?b"),
        Uri.EscapeDataString("a\u0001b"),
        Uri.EscapeDataString("a\u001fb"),
        Uri.EscapeDataString("a\u007fb"),
        Uri.EscapeDataString("a\u0085b"),
        Uri.EscapeDataString("a\u009fb"),
        "%00",
        "%ED%A0%80",
        "%FF%FE",
        "%C0%AF",
        "%2523",
        "%255C",
        "%252F",
        "%25",
        "%",
        Uri.EscapeDataString(" "),
        Uri.EscapeDataString("'"),
        Uri.EscapeDataString("a' or 'a' eq 'a"),
        Uri.EscapeDataString("😀😀"),
        Uri.EscapeDataString("\u202e\ufeff"),
        "-1",
        "99999999999999999999999999",
        "1e309",
        "null",
        "CON",
        Uri.EscapeDataString("SHA256:%23"),
        Uri.EscapeDataString("SHA256:\u0001"),
    ];

    private delegate (string Kind, byte[] Body, string? ContentType, bool Chunked) BodyMaker(Random random, Route route);

    private static List<BodyMaker> BodyMakers() =>
    [
        (r, _) => ("malformed JSON", Utf8(Pick(r, ["{", "}", "{\"a\":", "{\"a\" 1}", "{'a':1}", "{\"a\":1,}", "[1,]", "nul", "tru", "\"abc", "{\"a\":\"\\x\"}", "{\"a\":01}", "{\"a\":NaN}", "/* c */ {}", "\u0000", "{\"a\":1}}"])), Json, false),
        (r, _) => ("random bytes", Bytes(r, r.Next(1, 512)), Json, false),
        (r, _) => ("not an object", Utf8(Pick(r, ["null", "[]", "5", "\"s\"", "true", "-0", "1e400"])), Json, false),
        (r, route) => ("wrong JSON types", Utf8(WrongTypes(r, route)), Json, false),
        (r, route) => ("invalid UTF-8 in a value", Concat("{\"", Property(r, route), "\":\"a", (byte[])[0xff, 0xfe], "\"}"), Json, false),
        (r, route) => ("invalid UTF-8 in a property name", Concat("{\"", Property(r, route), (byte[])[0xc3, 0x28], "\":1}"), Json, false),
        (r, route) => ("UTF-8 of a surrogate", Concat("{\"", Property(r, route), "\":\"", (byte[])[0xed, 0xa0, 0x80], "\"}"), Json, false),
        (r, route) => ("overlong UTF-8", Concat("{\"", Property(r, route), "\":\"", (byte[])[0xc0, 0xaf], "\"}"), Json, false),
        (r, route) => ("invalid UTF-8 in a whole event", route.Webhook is { } shape ? [.. Utf8(shape.Fixture.TrimEnd()[..^1]), .. Utf8(",\"x\":\""), 0xf8, 0x88, 0x80, 0x80, 0x80, .. Utf8("\"}")] : Concat("{\"", Property(r, route), "\":\"", (byte[])[0xf8, 0x88, 0x80, 0x80, 0x80], "\"}"), Json, false),
        (r, route) => ("lone surrogate escape", Utf8(Pick(r, [$"{{\"{Property(r, route)}\":\"\\ud800\"}}", "{\"\\udc00\":1}", $"{{\"{Property(r, route)}\":\"a\\ud83dx\"}}", LoneSurrogateIn(r, route)])), Json, false),
        (r, route) => ("two documents", Utf8(Pick(r, ["{}{}", "{\"a\":1} {\"b\":2}", "[] 5", "null null", $"{route.Webhook?.Fixture ?? WrongTypes(r, route)}\n{{}}"])), Json, false),
        (r, route) => ("deep nesting", Utf8(Pick(r, [new string('[', 10_000) + new string(']', 10_000), string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_000), $"{{\"{Property(r, route)}\":{new string('[', 10_000)}{new string(']', 10_000)}}}"])), Json, false),
        (r, route) => ("huge string", Utf8($"{{\"{Property(r, route)}\":\"{new string('x', r.Next(100_000, 900_000))}\"}}"), Json, false),
        (r, _) => ("many properties", Utf8("{" + string.Join(",", Enumerable.Range(0, 30_000).Select(i => $"\"p{i}\":{i}")) + "}"), Json, false),
        (r, route) => ("extreme values", Utf8(Extreme(r, route)), Json, false),
        (r, _) => ("oversized", Utf8($"{{\"a\":\"{new string('x', OversizedBytes)}\"}}"), Json, false),
        (r, _) => ("oversized, chunked", Utf8($"{{\"a\":\"{new string('x', OversizedBytes)}\"}}"), Json, true),
        (r, _) => ("empty", [], Pick<string?>(r, [Json, null]), false),
        (r, route) => ("wrong content type", Utf8(WrongTypes(r, route)), Pick<string?>(r, ["text/plain", "application/xml", "application/json; charset=utf-16", "garbage", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/json;;;", null]), false),
        (r, _) => ("UTF-16 JSON", Encoding.Unicode.GetBytes("{\"a\":1}"), "application/json; charset=utf-16", false),
        (r, _) => ("byte order mark", [0xef, 0xbb, 0xbf, .. Utf8("{}")], Json, false),
    ];

    private const string Json = "application/json";

    /// <summary>
    /// What a webhook reads of its body: a real delivery (<paramref name="Fixture"/>), the top-level fields the webhook
    /// reads and so must find of the right type, and values of the right type it must still refuse.
    /// </summary>
    private sealed record WebhookShape(string Fixture, IReadOnlyList<string> ReadFields, IReadOnlyList<string> BoundedFields, IReadOnlyList<(string Field, string Value)> Refused)
    {
        public static WebhookShape Stripe() => new(
            StripeEvents.Event("customer.created", StripeStandIn.Fixtures()["customer"]!.AsObject()),
            ["id", "object", "api_version", "created", "data", "livemode", "pending_webhooks", "request", "type"],
            ["id", "type"],
            [("created", "-9223372036854775808"), ("created", "1e400"), ("created", "99999999999999"), ("id", Quoted(new string('i', 300))), ("type", Quoted(new string('t', 100_000))), ("api_version", Quoted(new string('v', 1000)))]);

        public static WebhookShape Chatwoot()
        {
            var fixture = ChatwootSends.Fixture("message_created_incoming");
            var read = typeof(ChatwootMessage).GetProperties()
                .Where(p => p.GetCustomAttribute<System.Text.Json.Serialization.JsonIgnoreAttribute>() is null)
                .Select(p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name))
                .Where(name => JsonNode.Parse(fixture)!.AsObject().ContainsKey(name))
                .Append("event")
                .ToList();
            return new(
                fixture,
                read,
                ["event"],
                [("created_at", "1e308"), ("created_at", "99999999999999999"), ("created_at", "-99999999999999999"), ("event", Quoted(new string('e', 100_000))), ("id", "1e400"), ("inbox", "{\"id\":1.5}")]);
        }

        public string With(string field, string value)
        {
            var body = JsonNode.Parse(Fixture)!.AsObject();
            body[field] = JsonNode.Parse(value);
            return body.ToJsonString();
        }

        private static string Quoted(string text) => JsonSerializer.Serialize(text);
    }

    /// <summary>A name to hang a bad value on: one the webhook checks first, or a property of Run's body type.</summary>
    private static string Property(Random random, Route route) =>
        route.Webhook is { } shape ? Pick(random, shape.BoundedFields)
        : route.BodyType is { } type ? Pick(random, [.. JsonProperties(type).Select(p => p.Name)])
        : Pick(random, ["id", "name"]);

    private static IEnumerable<(string Name, Type Type)> JsonProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0)
            .Select(p => (p.GetCustomAttribute<System.Text.Json.Serialization.JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(p.Name), p.PropertyType));

    /// <summary>
    /// Every property of Run's body type present, one or more of a type it cannot be; for a webhook, a real delivery with one
    /// field it reads of another JSON type (a scalar as an object or array, an object or array as a scalar).
    /// </summary>
    private static string WrongTypes(Random random, Route route)
    {
        if (route.Webhook is { } shape)
        {
            var field = Pick(random, shape.ReadFields);
            var current = JsonNode.Parse(shape.Fixture)![field];
            return shape.With(field, current is JsonObject or JsonArray ? Pick(random, ["5", "\"x\"", "true", current is JsonObject ? "[]" : "{}"]) : Pick(random, ["{\"x\":1}", "[1]"]));
        }

        var properties = route.BodyType is { } type
            ? JsonProperties(type).ToList()
            : [("id", typeof(string)), ("name", typeof(string)), ("count", typeof(long))];
        var wrong = random.Next(properties.Count);
        var members = properties.Select((p, i) => $"\"{p.Name}\":{(i == wrong || random.Next(3) == 0 ? WrongValue(random, p.Type) : RightValue(random, p.Type, depth: 0, extreme: false))}");
        return "{" + string.Join(",", members) + "}";
    }

    /// <summary>
    /// Every property of Run's body type with a value of its own type at the extremes: huge strings, numbers at their limits,
    /// long arrays; for a webhook, a real delivery with one value of the right type it must refuse (a time beyond year 9999, an id no key can hold).
    /// </summary>
    private static string Extreme(Random random, Route route)
    {
        if (route.Webhook is { } shape)
        {
            var (field, value) = Pick(random, shape.Refused);
            return shape.With(field, value);
        }

        return route.BodyType is { } type
            ? "{" + string.Join(",", JsonProperties(type).Select(p => $"\"{p.Name}\":{RightValue(random, p.Type, depth: 0, extreme: true)}")) + "}"
            : $"{{\"id\":\"{new string('e', 300_000)}\"}}";
    }

    /// <summary>A lone surrogate escape inside an otherwise good body: a real delivery for a webhook.</summary>
    private static string LoneSurrogateIn(Random random, Route route) =>
        route.Webhook is { } shape
            ? shape.Fixture.TrimEnd()[..^1] + Pick(random, [",\"note\":\"\\udc00\"}", ",\"\\ud800x\":1}"])
            : $"{{\"{Property(random, route)}\":\"ok\",\"other\":\"\\udfff\"}}";

    private static string WrongValue(Random random, Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string))
        {
            return Pick(random, ["5", "{}", "[]", "true", "[\"a\"]"]);
        }

        if (type == typeof(bool))
        {
            return Pick(random, ["\"yes\"", "1", "{}"]);
        }

        return IsNumber(type) ? Pick(random, ["\"not a number\"", "{}", "[]", "true", "1.5e999"])
            : IsList(type) ? Pick(random, ["{}", "5", "\"a\"", "[{}]"])
            : Pick(random, ["[]", "5", "\"a\"", "true"]);
    }

    private static string RightValue(Random random, Type type, int depth, bool extreme)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string))
        {
            return extreme
                ? JsonSerializer.Serialize(Pick(random, [new string('x', random.Next(100_000, 300_000)), string.Concat(Enumerable.Repeat("😀\u0001\u202e", 20_000))]))
                : "\"fuzz\"";
        }

        if (type == typeof(bool))
        {
            return "true";
        }

        if (type == typeof(DateTimeOffset) || type == typeof(DateTime))
        {
            return extreme ? Pick(random, ["\"9999-12-31T23:59:59Z\"", "\"0001-01-01T00:00:00Z\""]) : "\"2030-01-01T00:00:00Z\"";
        }

        if (IsNumber(type))
        {
            return extreme ? Pick(random, ["-1", "0", "9223372036854775807", "-9223372036854775808", "2147483647", "1e308"]) : "1";
        }

        if (IsList(type))
        {
            var element = type.IsArray ? type.GetElementType()! : type.GetGenericArguments()[0];
            var count = extreme ? random.Next(1_000, 10_000) : 1;
            return "[" + string.Join(",", Enumerable.Range(0, count).Select(_ => RightValue(random, element, depth + 1, extreme: false))) + "]";
        }

        return depth > 2 || type == typeof(object) || type.IsEnum
            ? "{}"
            : "{" + string.Join(",", JsonProperties(type).Select(p => $"\"{p.Name}\":{RightValue(random, p.Type, depth + 1, extreme)}")) + "}";
    }

    private static bool IsNumber(Type type) =>
        type == typeof(int) || type == typeof(long) || type == typeof(decimal) || type == typeof(double) || type == typeof(short) || type == typeof(byte);

    private static bool IsList(Type type) =>
        type.IsArray || (type.IsGenericType && type.GetInterfaces().Append(type).Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>)) && type != typeof(string));

    /// <summary>Sets of headers that are missing, or present and garbage; whether the request is otherwise authenticated.</summary>
    private static List<(string Kind, IReadOnlyList<KeyValuePair<string, string>> Headers, bool Authenticate)> BadHeaders(Route route)
    {
        static KeyValuePair<string, string> H(string name, string value) => KeyValuePair.Create(name, value);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var sets = new List<(string, IReadOnlyList<KeyValuePair<string, string>>, bool)>
        {
            ("no headers", [], false),
            ("garbage Authorization", [H("Authorization", "Bearer " + new string('z', 3000))], false),
            ("garbage Authorization", [H("Authorization", "Basic !!!")], true),
            ("garbage function key", [H("x-functions-key", "x")], false),
            ("garbage function key", [H("x-functions-key", new string('k', 8000))], false),
            ("garbage signature headers", [H(SignatureHeaders.PublicKeyHeader, "zz"), H(SignatureHeaders.SignatureHeader, "!!"), H(SignatureHeaders.TimestampHeader, "abc"), H(SignatureHeaders.NonceHeader, "not-a-uuid")], false),
            ("garbage signature headers", [H(SignatureHeaders.PublicKeyHeader, new string('0', 64)), H(SignatureHeaders.SignatureHeader, new string('0', 128)), H(SignatureHeaders.TimestampHeader, "99999999999999999999999999"), H(SignatureHeaders.NonceHeader, Guid.NewGuid().ToString())], false),
            ("garbage signature headers", [H(SignatureHeaders.PublicKeyHeader, "ed25519:" + new string('f', 4000)), H(SignatureHeaders.TimestampHeader, "-1")], false),
            ("garbage Content-Type", [H("Content-Type", "\u0001;;=")], true),
            ("header value of 16 KB", [H("X-Anything", new string('h', 16_000))], true),
            ("garbage Stripe-Signature", [H("Stripe-Signature", "t=abc,v1=zz")], false),
            ("garbage Chatwoot signature", [H(ChatwootWebhook.SignatureHeader, "sha256=" + new string('0', 64)), H(ChatwootWebhook.TimestampHeader, now), H(ChatwootWebhook.DeliveryHeader, "not-a-uuid")], false),
        };

        if (route.Auth == Auth.Stripe)
        {
            sets.AddRange(StripeEvents.GarbageSignatureHeaders.Select(header => ("garbage Stripe-Signature", (IReadOnlyList<KeyValuePair<string, string>>)[H("Stripe-Signature", header)], false)));
        }

        if (route.Auth == Auth.Chatwoot)
        {
            sets.Add(("Chatwoot timestamp not a number", [H(ChatwootWebhook.SignatureHeader, "sha256=" + new string('0', 64)), H(ChatwootWebhook.TimestampHeader, "9".PadRight(40, '9'))], false));
            sets.Add(("Chatwoot signature not hex", [H(ChatwootWebhook.SignatureHeader, "sha256=" + new string('z', 64)), H(ChatwootWebhook.TimestampHeader, now)], false));
            sets.Add(("Chatwoot token garbage", [], false));
        }

        return sets;
    }

    private sealed record Answer(int Status, string? Failure);

    private static async Task<Answer> SendAsync(TestFunctionApp app, HttpClient signed, Route route, FuzzCase fuzz)
    {
        using var request = new HttpRequestMessage(new HttpMethod(fuzz.Method), new Uri(app.Client.BaseAddress!, fuzz.Path));
        if (fuzz.Body is not null)
        {
            request.Content = new ByteArrayContent(fuzz.Body);
            if (fuzz.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", fuzz.ContentType);
            }
        }

        foreach (var (name, value) in fuzz.Headers)
        {
            if (!request.Headers.TryAddWithoutValidation(name, value) && request.Content is not null)
            {
                request.Content.Headers.Remove(name);
                request.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        if (fuzz.Chunked)
        {
            request.Headers.TransferEncodingChunked = true;
        }

        var client = app.Client;
        if (fuzz.Authenticate)
        {
            client = Authenticate(route, request, fuzz.Body ?? [], signed, app.Client);
        }

        var clock = Stopwatch.StartNew();
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request);
        }
        catch (HttpRequestException ex)
        {
            return new Answer(0, $"no answer: {ex.GetType().Name}: {ex.Message}");
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync();
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (status >= 500)
            {
                return new Answer(status, $"answered {status} {Shorten(text)}{ServerError(app, text)}");
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                return new Answer(status, $"answered {status} only after {clock.Elapsed.TotalSeconds:F1} s");
            }

            if (status < 300 && fuzz.FuzzesBody && route.ReadsBody)
            {
                return new Answer(status, $"accepted a bad body with {status} {Shorten(text)}");
            }

            // Kestrel's own refusals (a request line or headers too long, bad framing) never reach the app and carry no body.
            return status >= 400 && text.Length > 0 && mediaType != "application/problem+json"
                ? new Answer(status, $"answered {status} with {mediaType ?? "no content type"}, not problem details: {Shorten(text)}")
                : new Answer(status, null);
        }
    }

    private static HttpClient Authenticate(Route route, HttpRequestMessage request, byte[] body, HttpClient signed, HttpClient plain)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        switch (route.Auth)
        {
            case Auth.Signature:
                return signed;
            case Auth.MasterKey:
                request.Headers.TryAddWithoutValidation("x-functions-key", TestKeys.Master);
                return plain;
            case Auth.FunctionKey:
                request.Headers.TryAddWithoutValidation("x-functions-key", TestKeys.Host);
                return plain;
            case Auth.Stripe:
                var stripe = HMACSHA256.HashData(Encoding.UTF8.GetBytes(TestKeys.StripeWebhookSecret), (byte[])[.. Utf8($"{timestamp}."), .. body]);
                request.Headers.TryAddWithoutValidation("Stripe-Signature", $"t={timestamp},v1={Convert.ToHexStringLower(stripe)}");
                return plain;
            case Auth.Chatwoot:
                var chatwoot = HMACSHA256.HashData(Encoding.UTF8.GetBytes(ChatwootSecret), (byte[])[.. Utf8($"{timestamp}."), .. body]);
                request.Headers.TryAddWithoutValidation(ChatwootWebhook.SignatureHeader, "sha256=" + Convert.ToHexStringLower(chatwoot));
                request.Headers.TryAddWithoutValidation(ChatwootWebhook.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
                request.Headers.TryAddWithoutValidation(ChatwootWebhook.DeliveryHeader, Guid.NewGuid().ToString());
                return plain;
            default:
                return plain;
        }
    }

    /// <summary>The error the app logged for a 5xx, found by the trace id its problem details carry.</summary>
    private static string ServerError(TestFunctionApp app, string problem)
    {
        string? traceId = null;
        try
        {
            traceId = JsonDocument.Parse(problem).RootElement.TryGetProperty("traceId", out var id) ? id.GetString() : null;
        }
        catch (JsonException)
        {
            return "";
        }

        var logged = app.Logs.Entries.FirstOrDefault(e => e.Level >= LogLevel.Error && e.TraceId == traceId);
        return logged is null ? "" : $"\n    logged: {logged.Message} {logged.Exception?.GetType().Name}: {Shorten(logged.Exception?.Message ?? "", 300)}";
    }

    private static string Shorten(string value, int length = 200) => value.Length <= length ? value : value[..length] + "…";

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Bytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Concat(params object[] parts) =>
        [.. parts.SelectMany(part => part as byte[] ?? Utf8((string)part))];
}
