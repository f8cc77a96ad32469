using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DecentCloud.Testing;

namespace DecentCloud.Tests.Chatwoot;

/// <summary>Which token an operation takes: the three security schemes of swagger.json, all sent as <c>api_access_token</c>.</summary>
public enum ChatwootTokenKind
{
    None,

    /// <summary>A user's access token (<c>userApiKey</c>): <c>/api/v1/accounts/…</c>.</summary>
    User,

    /// <summary>An agent bot's token (<c>agentBotApiKey</c>).</summary>
    AgentBot,

    /// <summary>A Platform App's token (<c>platformAppApiKey</c>): <c>/platform/api/v1/…</c>.</summary>
    Platform,

    /// <summary>A token the stand-in does not know (revoked, mistyped).</summary>
    Unknown,
}

/// <summary>One operation of the contract, matched to a request path.</summary>
/// <param name="Template">The spec's path template, e.g. <c>/api/v1/accounts/{account_id}/teams/{team_id}/team_members</c>.</param>
/// <param name="Values">The path parameters' values, by name.</param>
/// <param name="Tokens">The token kinds its <c>security</c> accepts; empty for public operations.</param>
/// <param name="Body">The request body's schema, or null when it takes none.</param>
/// <param name="Wrapper">The root key Rails wraps a flat body in for this controller (docs/chatwoot.md, "Requests"), if any.</param>
/// <param name="Source">Where the operation is written down: swagger.json, or the docs/chatwoot.md section for one the spec leaves out.</param>
public sealed record ChatwootOperation(
    string Method,
    string Template,
    IReadOnlyDictionary<string, string> Values,
    IReadOnlyList<ChatwootTokenKind> Tokens,
    JsonObject? Body,
    bool BodyRequired,
    string? Wrapper,
    string Source)
{
    public string Key => $"{Method} {Template}";

    public long Id(string name) => long.Parse(Values[name], CultureInfo.InvariantCulture);
}

/// <summary>
/// Chatwoot's published OpenAPI 3.1 file (tests/DecentCloud.Tests/Contracts/chatwoot/swagger.json, Chatwoot's own
/// file, unchanged; SOURCE.md beside it) read with System.Text.Json: the operations by path template and method, their security
/// schemes, and a checker for request bodies against their schemas ($ref, allOf, oneOf with discriminator, type,
/// enum, required, properties, items). Properties a schema does not list count as a problem unless it allows more:
/// Rails drops unpermitted keys without a word, so a misspelt key would otherwise be lost silently.
/// </summary>
/// <remarks>
/// Where docs/chatwoot.md records that the server differs from the spec in what it accepts, the difference is applied here
/// and named: <see cref="Extensions"/> (operations the spec leaves out), <see cref="Wrappers"/> (root keys Rails wraps
/// flat bodies in), and <see cref="Errata"/>.
/// </remarks>
public sealed class ChatwootContract
{
    public static readonly string SpecPath = Path.Combine(RepositoryRoot.Path, "tests", "DecentCloud.Tests", "Contracts", "chatwoot", "swagger.json");

    /// <summary>Operations the server routes and docs/chatwoot.md documents but swagger.json does not list.</summary>
    public static readonly IReadOnlyList<(string Method, string Template, string Source)> Extensions =
    [
        ("GET", "/api/v1/accounts/{account_id}/portals/{id}/categories", "docs/chatwoot.md, Requests"),
    ];

    /// <summary>docs/chatwoot.md, "Requests" (root keys): these controllers require a root key, and Rails wraps a flat JSON body in it.</summary>
    public static readonly IReadOnlyDictionary<string, string> Wrappers = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["/api/v1/accounts/{account_id}/teams"] = "team",
        ["/api/v1/accounts/{account_id}/teams/{team_id}"] = "team",
        ["/api/v1/accounts/{account_id}/portals"] = "portal",
        ["/api/v1/accounts/{account_id}/portals/{id}"] = "portal",
        ["/api/v1/accounts/{account_id}/portals/{id}/categories"] = "category",
        ["/api/v1/accounts/{account_id}/portals/{id}/articles"] = "article",
        ["/api/v1/accounts/{account_id}/webhooks"] = "webhook",
        ["/api/v1/accounts/{account_id}/webhooks/{webhook_id}"] = "webhook",
    };

    /// <summary>
    /// Body properties whose type the spec gets wrong, with the type the server takes. inbox_members PATCH and DELETE
    /// type <c>inbox_id</c> as a string while POST types it as an integer; the controller looks the inbox up with
    /// <c>find(params[:inbox_id])</c> (docs/chatwoot.md, "Requests"), which takes either.
    /// </summary>
    public static readonly IReadOnlyList<(string Method, string Template, string Property, string[] Types)> Errata =
    [
        ("PATCH", "/api/v1/accounts/{account_id}/inbox_members", "inbox_id", ["integer", "string"]),
        ("DELETE", "/api/v1/accounts/{account_id}/inbox_members", "inbox_id", ["integer", "string"]),
    ];

    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    private readonly JsonObject document;
    private readonly List<ChatwootOperation> operations = [];
    private readonly Dictionary<string, JsonObject> pathParameterSchemas = new(StringComparer.Ordinal);

    private ChatwootContract(JsonObject document)
    {
        this.document = document;
        foreach (var (template, item) in document["paths"]!.AsObject())
        {
            var pathItem = item!.AsObject();
            foreach (var method in Methods)
            {
                if (pathItem[method] is JsonObject operation)
                {
                    operations.Add(Read(method.ToUpperInvariant(), template, pathItem, operation));
                }
            }
        }

        foreach (var (method, template, source) in Extensions)
        {
            operations.Add(new ChatwootOperation(method, template, new Dictionary<string, string>(), [ChatwootTokenKind.User], null, false, null, source));
        }
    }

    public IReadOnlyList<ChatwootOperation> Operations => operations;

    public string Version => document["info"]?["version"]?.GetValue<string>() ?? "";

    public static ChatwootContract Load() => new(JsonNode.Parse(File.ReadAllText(SpecPath))!.AsObject());

    /// <summary>The operation for <paramref name="method"/> and <paramref name="path"/>, with the most literal segments when templates overlap.</summary>
    public ChatwootOperation? Find(string method, string path)
    {
        var segments = Segments(path);
        ChatwootOperation? best = null;
        var bestLiterals = -1;
        foreach (var operation in operations.Where(o => o.Method == method))
        {
            var template = Segments(operation.Template);
            if (template.Length != segments.Length)
            {
                continue;
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            var literals = 0;
            var matches = true;
            for (var i = 0; i < template.Length && matches; i++)
            {
                if (template[i] is ['{', .. var name, '}'])
                {
                    values[name] = segments[i];
                    matches = segments[i].Length > 0 && (!IsIntegerParameter(operation.Template, name) || segments[i].All(char.IsAsciiDigit));
                }
                else
                {
                    matches = string.Equals(template[i], segments[i], StringComparison.Ordinal);
                    literals++;
                }
            }

            if (matches && literals > bestLiterals)
            {
                best = operation with { Values = values };
                bestLiterals = literals;
            }
        }

        return best;
    }

    /// <summary>Whether any operation has this path, whatever its method (to tell a wrong method from an unknown path).</summary>
    public bool HasPath(string path) => Methods.Any(m => Find(m.ToUpperInvariant(), path) is not null);

    /// <summary>What is wrong with <paramref name="body"/> for <paramref name="operation"/>; empty when it meets the schema.</summary>
    public IReadOnlyList<string> CheckBody(ChatwootOperation operation, JsonElement body)
    {
        var problems = new List<string>();
        if (operation.Body is null)
        {
            return problems;
        }

        var target = body;
        var label = "body";
        if (operation.Wrapper is { } wrapper && body.ValueKind == JsonValueKind.Object && body.TryGetProperty(wrapper, out var inner))
        {
            foreach (var outer in body.EnumerateObject().Where(p => p.Name != wrapper))
            {
                problems.Add($"'{outer.Name}' is outside the '{wrapper}' wrapper; the server reads only '{wrapper}'");
            }

            if (inner.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"'{wrapper}' must be an object");
                return problems;
            }

            target = inner;
            label = wrapper;
        }

        Check(target, operation.Body, label, problems);
        return problems;
    }

    private ChatwootOperation Read(string method, string template, JsonObject pathItem, JsonObject operation)
    {
        foreach (var parameter in Parameters(pathItem).Concat(Parameters(operation)))
        {
            if (parameter["in"]?.GetValue<string>() == "path" && parameter["name"]?.GetValue<string>() is { } name && parameter["schema"] is JsonObject schema)
            {
                pathParameterSchemas[$"{template}|{name}"] = Resolve(schema);
            }
        }

        var tokens = new List<ChatwootTokenKind>();
        foreach (var requirement in operation["security"]?.AsArray() ?? document["security"]?.AsArray() ?? [])
        {
            foreach (var (scheme, _) in requirement!.AsObject())
            {
                tokens.Add(scheme switch
                {
                    "userApiKey" => ChatwootTokenKind.User,
                    "agentBotApiKey" => ChatwootTokenKind.AgentBot,
                    "platformAppApiKey" => ChatwootTokenKind.Platform,
                    _ => throw new InvalidOperationException($"unknown security scheme {scheme} on {method} {template}"),
                });
            }
        }

        JsonObject? body = null;
        var required = false;
        if (operation["requestBody"] is JsonObject requestBody)
        {
            var resolved = Resolve(requestBody);
            required = resolved["required"]?.GetValue<bool>() ?? false;
            body = resolved["content"]?["application/json"]?["schema"] is JsonObject schema ? Resolve(schema).DeepClone().AsObject() : null;
            foreach (var (_, _, property, types) in Errata.Where(e => e.Method == method && e.Template == template))
            {
                if (body?["properties"]?[property] is JsonObject patched)
                {
                    patched["type"] = new JsonArray([.. types.Select(t => (JsonNode?)JsonValue.Create(t))]);
                }
            }
        }

        return new ChatwootOperation(method, template, new Dictionary<string, string>(), tokens, body, required, Wrappers.GetValueOrDefault(template), "swagger.json");
    }

    private IEnumerable<JsonObject> Parameters(JsonObject owner) =>
        (owner["parameters"]?.AsArray() ?? []).Select(p => Resolve(p!.AsObject()));

    private bool IsIntegerParameter(string template, string name) =>
        pathParameterSchemas.TryGetValue($"{template}|{name}", out var schema) && Types(schema).Contains("integer");

    /// <summary>Follows <c>$ref</c> (local JSON pointers only, as the file uses).</summary>
    private JsonObject Resolve(JsonObject node)
    {
        var seen = 0;
        while (node["$ref"]?.GetValue<string>() is { } reference)
        {
            if (!reference.StartsWith("#/", StringComparison.Ordinal) || ++seen > 32)
            {
                throw new InvalidOperationException($"cannot resolve {reference}");
            }

            JsonNode? target = document;
            foreach (var part in reference[2..].Split('/'))
            {
                target = target?[part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)];
            }

            node = target as JsonObject ?? throw new InvalidOperationException($"{reference} does not name an object");
        }

        return node;
    }

    private void Check(JsonElement value, JsonObject schemaNode, string at, List<string> problems)
    {
        var schema = Resolve(schemaNode);
        if (schema["allOf"] is JsonArray allOf)
        {
            schema = Merge(schema, allOf);
        }

        if ((schema["oneOf"] ?? schema["anyOf"]) is JsonArray choices)
        {
            CheckChoice(value, schema, choices, at, problems);
            return;
        }

        var types = Types(schema);
        if (value.ValueKind == JsonValueKind.Null)
        {
            if (types.Count > 0 && !types.Contains("null"))
            {
                problems.Add($"{at}: null where the spec says {string.Join(" or ", types)}");
            }

            return;
        }

        var kind = JsonType(value);
        if (types.Count > 0 && !types.Contains(kind) && !(kind == "integer" && types.Contains("number")))
        {
            problems.Add($"{at}: {Describe(value)} where the spec says {string.Join(" or ", types)}");
            return;
        }

        if (schema["enum"] is JsonArray choicesOfValue && !choicesOfValue.Any(c => c?.ToJsonString() == value.GetRawText()))
        {
            problems.Add($"{at}: {value.GetRawText()} is not one of {choicesOfValue.ToJsonString()}");
        }

        if (value.ValueKind == JsonValueKind.Object)
        {
            CheckObject(value, schema, at, problems);
        }
        else if (value.ValueKind == JsonValueKind.Array && schema["items"] is JsonObject items)
        {
            var index = 0;
            foreach (var item in value.EnumerateArray())
            {
                Check(item, items, $"{at}[{index.ToString(CultureInfo.InvariantCulture)}]", problems);
                index++;
            }
        }
    }

    private void CheckObject(JsonElement value, JsonObject schema, string at, List<string> problems)
    {
        var properties = schema["properties"] as JsonObject;
        foreach (var required in schema["required"]?.AsArray() ?? [])
        {
            if (!value.TryGetProperty(required!.GetValue<string>(), out _))
            {
                problems.Add($"{at}: the required field '{required.GetValue<string>()}' is missing");
            }
        }

        foreach (var property in value.EnumerateObject())
        {
            var where = $"{at}.{property.Name}";
            if (properties?[property.Name] is JsonObject propertySchema)
            {
                Check(property.Value, propertySchema, where, problems);
            }
            else if (schema["additionalProperties"] is JsonObject extra)
            {
                Check(property.Value, extra, where, problems);
            }
            else if (properties is not null && schema["additionalProperties"]?.GetValue<bool>() != true)
            {
                problems.Add($"{where}: not a field of this request in the spec");
            }
        }
    }

    private void CheckChoice(JsonElement value, JsonObject schema, JsonArray choices, string at, List<string> problems)
    {
        if (schema["discriminator"] is JsonObject discriminator && value.ValueKind == JsonValueKind.Object)
        {
            var property = discriminator["propertyName"]!.GetValue<string>();
            var name = value.TryGetProperty(property, out var tag) && tag.ValueKind == JsonValueKind.String ? tag.GetString()! : null;
            if (name is not null && discriminator["mapping"]?[name] is JsonValue reference)
            {
                Check(value, new JsonObject { ["$ref"] = reference.GetValue<string>() }, at, problems);
                return;
            }

            var known = discriminator["mapping"] is JsonObject mapping ? string.Join(", ", mapping.Select(m => m.Key)) : "";
            problems.Add($"{at}.{property}: '{name}' is not one of {known}");
            return;
        }

        var attempts = new List<List<string>>();
        foreach (var choice in choices)
        {
            var attempt = new List<string>();
            Check(value, choice!.AsObject(), at, attempt);
            if (attempt.Count == 0)
            {
                return;
            }

            attempts.Add(attempt);
        }

        problems.Add($"{at}: matches none of the {choices.Count} schemas it may take (closest: {string.Join("; ", attempts.MinBy(a => a.Count) ?? [])})");
    }

    private JsonObject Merge(JsonObject schema, JsonArray parts)
    {
        var merged = new JsonObject();
        var properties = new JsonObject();
        var required = new JsonArray();
        foreach (var part in parts.Select(p => Resolve(p!.AsObject())).Append(schema))
        {
            foreach (var (key, node) in part)
            {
                switch (key)
                {
                    case "allOf":
                        break;
                    case "properties":
                        foreach (var (name, property) in node!.AsObject())
                        {
                            properties[name] = property?.DeepClone();
                        }

                        break;
                    case "required":
                        foreach (var name in node!.AsArray())
                        {
                            required.Add(name?.DeepClone());
                        }

                        break;
                    default:
                        merged[key] = node?.DeepClone();
                        break;
                }
            }
        }

        if (properties.Count > 0)
        {
            merged["properties"] = properties;
        }

        if (required.Count > 0)
        {
            merged["required"] = required;
        }

        return merged;
    }

    private static List<string> Types(JsonObject schema)
    {
        var types = schema["type"] switch
        {
            JsonArray list => list.Select(t => t!.GetValue<string>()).ToList(),
            JsonValue single => [single.GetValue<string>()],
            _ => [],
        };
        if (schema["nullable"]?.GetValue<bool>() == true)
        {
            types.Add("null");
        }

        return types;
    }

    private static string JsonType(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => value.TryGetInt64(out _) ? "integer" : "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    private static string Describe(JsonElement value) => $"{JsonType(value)} {Truncate(value.GetRawText())}";

    private static string Truncate(string text) => text.Length <= 60 ? text : text[..60] + "…";

    private static string[] Segments(string path) => path.TrimEnd('/').Split('/');
}
