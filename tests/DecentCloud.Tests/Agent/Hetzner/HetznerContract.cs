using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace DecentCloud.Tests.Agent.Hetzner;

/// <summary>One operation of hetzner-subset.json, matched to a request.</summary>
public sealed record HetznerOperation(string Method, string Template, string OperationId, IReadOnlyDictionary<string, string> Values, JsonObject Definition, IReadOnlyList<JsonObject> Parameters)
{
    public string Key => $"{Method} {Template}";

    public long Id => long.Parse(Values["id"], CultureInfo.InvariantCulture);
}

/// <summary>
/// The Hetzner Cloud API's operations from hetzner-subset.json (HetznerSubset says how it is made from Hetzner's
/// OpenAPI 3.0.3 document), read with System.Text.Json: matches a request to its operation and checks its path and query
/// parameters and its JSON body, and checks an answer against the operation's response schema for its status (exact,
/// then <c>4xx</c>/<c>5xx</c>). Schemas are checked for type, nullable, enum, required, properties, items, minimum,
/// maximum and pattern; members a schema does not list count as a problem unless it allows more
/// (<c>additionalProperties</c>), so a misspelt member is not lost silently.
/// </summary>
public sealed class HetznerContract
{
    private static readonly Lazy<HetznerContract> Shared = new(() => new HetznerContract(HetznerSubset.LoadSubset()));

    private readonly JsonObject document;
    private readonly List<HetznerOperation> operations = [];

    private HetznerContract(JsonObject document)
    {
        this.document = document;
        foreach (var (template, item) in document["paths"]!.AsObject())
        {
            var pathItem = item!.AsObject();
            foreach (var (method, node) in pathItem.Where(p => p.Key != "parameters"))
            {
                var operation = node!.AsObject();
                var parameters = Parameters(pathItem).Concat(Parameters(operation)).ToList();
                operations.Add(new HetznerOperation(method.ToUpperInvariant(), template, operation["operationId"]!.GetValue<string>(), new Dictionary<string, string>(), operation, parameters));
            }
        }
    }

    public static HetznerContract Load() => Shared.Value;

    public IReadOnlyList<HetznerOperation> Operations => operations;

    /// <summary>The operation for a method and a path relative to <c>/v1</c> (no query), with its path parameters' values.</summary>
    public HetznerOperation? Find(string method, string path)
    {
        var segments = path.TrimEnd('/').Split('/');
        foreach (var operation in operations.Where(o => o.Method == method))
        {
            var template = operation.Template.Split('/');
            if (template.Length != segments.Length)
            {
                continue;
            }
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            var matches = true;
            for (var i = 0; i < template.Length && matches; i++)
            {
                if (template[i] is ['{', .. var name, '}'])
                {
                    values[name] = Uri.UnescapeDataString(segments[i]);
                }
                else
                {
                    matches = template[i] == segments[i];
                }
            }
            if (matches)
            {
                return operation with { Values = values };
            }
        }
        return null;
    }

    public bool HasPath(string path) => operations.Any(o => Find(o.Method, path) is not null);

    /// <summary>What is wrong with the request's parameters and body; empty when it meets the operation.</summary>
    public IReadOnlyList<string> CheckRequest(HetznerOperation operation, IReadOnlyDictionary<string, string[]> query, JsonElement? body)
    {
        var problems = new List<string>();
        foreach (var parameter in operation.Parameters)
        {
            var name = parameter["name"]!.GetValue<string>();
            var schema = parameter["schema"]!.AsObject();
            var required = parameter["required"]?.GetValue<bool>() ?? false;
            switch (parameter["in"]!.GetValue<string>())
            {
                case "path":
                    CheckParameterValue(operation.Values.GetValueOrDefault(name), schema, $"path parameter {name}", problems);
                    break;
                case "query":
                    if (!query.TryGetValue(name, out var values))
                    {
                        if (required)
                        {
                            problems.Add($"query parameter {name} is required");
                        }
                        break;
                    }
                    if (Types(schema).Contains("array"))
                    {
                        foreach (var value in values)
                        {
                            CheckParameterValue(value, schema["items"]!.AsObject(), $"query parameter {name}", problems);
                        }
                    }
                    else if (values.Length > 1)
                    {
                        problems.Add($"query parameter {name} is given {values.Length} times; it takes one value");
                    }
                    else
                    {
                        CheckParameterValue(values[0], schema, $"query parameter {name}", problems);
                    }
                    break;
            }
        }
        var known = operation.Parameters.Where(p => p["in"]!.GetValue<string>() == "query").Select(p => p["name"]!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
        problems.AddRange(query.Keys.Where(key => !known.Contains(key)).Select(key => $"query parameter {key} is not a parameter of {operation.OperationId}"));

        var requestBody = operation.Definition["requestBody"] as JsonObject;
        var bodySchema = requestBody?["content"]?["application/json"]?["schema"] as JsonObject;
        if (body is { } json)
        {
            if (bodySchema is null)
            {
                problems.Add($"{operation.OperationId} takes no body");
            }
            else
            {
                Check(json, bodySchema, "body", problems);
            }
        }
        else if (requestBody?["required"]?.GetValue<bool>() == true)
        {
            problems.Add($"{operation.OperationId} needs a JSON body");
        }
        return problems;
    }

    /// <summary>What is wrong with an answer's body for the status; empty when it meets the operation's response.</summary>
    public IReadOnlyList<string> CheckResponse(HetznerOperation operation, int status, JsonElement? body)
    {
        var problems = new List<string>();
        var responses = operation.Definition["responses"]!.AsObject();
        var response = (responses[status.ToString(CultureInfo.InvariantCulture)] ?? responses[$"{status / 100}xx"]) as JsonObject;
        if (response is null)
        {
            problems.Add($"{operation.OperationId} has no response {status} in the spec");
            return problems;
        }
        var schema = response["content"]?["application/json"]?["schema"] as JsonObject;
        if (schema is null)
        {
            if (body is not null)
            {
                problems.Add($"{operation.OperationId} answers {status} without a body in the spec");
            }
            return problems;
        }
        if (body is not { } json)
        {
            problems.Add($"{operation.OperationId} answers {status} with a JSON body in the spec");
            return problems;
        }
        Check(json, schema, $"answer {status}", problems);
        return problems;
    }

    private static IEnumerable<JsonObject> Parameters(JsonObject owner) => (owner["parameters"]?.AsArray() ?? []).Select(p => p!.AsObject());

    private void CheckParameterValue(string? value, JsonObject schemaNode, string at, List<string> problems)
    {
        var schema = Resolve(schemaNode);
        if (value is null)
        {
            problems.Add($"{at} is missing");
            return;
        }
        var types = Types(schema);
        if (types.Contains("integer") || types.Contains("number"))
        {
            if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
            {
                problems.Add($"{at}: '{value}' is not an integer");
                return;
            }
            CheckRange(number, schema, at, problems);
        }
        else if (types.Contains("boolean") && value is not ("true" or "false"))
        {
            problems.Add($"{at}: '{value}' is not true or false");
        }
        if (schema["enum"] is JsonArray choices && !choices.Any(c => c?.GetValue<string>() == value))
        {
            problems.Add($"{at}: '{value}' is not one of {choices.ToJsonString()}");
        }
    }

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
            problems.Add($"{at}: {kind} {Truncate(value.GetRawText())} where the spec says {string.Join(" or ", types)}");
            return;
        }
        if (schema["enum"] is JsonArray choices && !choices.Any(c => c?.ToJsonString() == value.GetRawText()))
        {
            problems.Add($"{at}: {value.GetRawText()} is not one of {choices.ToJsonString()}");
        }
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                CheckObject(value, schema, at, problems);
                break;
            case JsonValueKind.Array when schema["items"] is JsonObject items:
                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    Check(item, items, $"{at}[{index++}]", problems);
                }
                break;
            case JsonValueKind.Number when value.TryGetInt64(out var number):
                CheckRange(number, schema, at, problems);
                break;
            case JsonValueKind.String when schema["pattern"]?.GetValue<string>() is { } pattern && !Regex.IsMatch(value.GetString()!, pattern):
                problems.Add($"{at}: '{value.GetString()}' does not match {pattern}");
                break;
        }
    }

    private void CheckObject(JsonElement value, JsonObject schema, string at, List<string> problems)
    {
        var properties = schema["properties"] as JsonObject;
        foreach (var required in schema["required"]?.AsArray() ?? [])
        {
            if (!value.TryGetProperty(required!.GetValue<string>(), out _))
            {
                problems.Add($"{at}: the required member '{required.GetValue<string>()}' is missing");
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
                problems.Add($"{where}: not a member of this object in the spec");
            }
        }
    }

    private static void CheckRange(long number, JsonObject schema, string at, List<string> problems)
    {
        if (schema["minimum"] is JsonValue min && number < min.GetValue<double>())
        {
            problems.Add($"{at}: {number} is below the minimum {min}");
        }
        if (schema["maximum"] is JsonValue max && number > max.GetValue<double>())
        {
            problems.Add($"{at}: {number} is above the maximum {max}");
        }
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

    private static string Truncate(string text) => text.Length <= 60 ? text : text[..60] + "…";
}
