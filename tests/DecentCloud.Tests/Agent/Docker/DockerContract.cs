using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DecentCloud.Testing;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace DecentCloud.Tests.Agent.Docker;

/// <summary>One operation of the spec, matched to a request path.</summary>
/// <param name="Template">The spec's path template without the version, e.g. <c>/containers/{id}/start</c>.</param>
/// <param name="Values">The path parameters' values, by name.</param>
public sealed record DockerOperation(string Method, string Template, IReadOnlyDictionary<string, string> Values, JsonObject Definition)
{
    public string Key => $"{Method} {Template}";
}

/// <summary>
/// The Docker Engine API's published Swagger 2.0 file for v1.47 (Contract/v1.47.yaml, moby's own file, unchanged;
/// SOURCE.md beside it), read with YamlDotNet into JSON nodes: the operations by path template and method, their
/// query parameters, and a checker for JSON bodies against their schemas ($ref, allOf, type, enum, pattern, required,
/// properties, additionalProperties, items, x-nullable). A property a schema does not list is a problem unless the
/// schema allows more: the daemon's JSON decoder drops unknown fields without a word, so a misspelt field (say
/// <c>NanoCPUs</c>) would otherwise be lost silently.
/// </summary>
public sealed partial class DockerContract
{
    public static readonly string SpecPath = Path.Combine(RepositoryRoot.Path, "tests", "DecentCloud.Tests", "Agent", "Docker", "Contract", "v1.47.yaml");

    private static readonly string[] Methods = ["get", "put", "post", "delete", "head"];

    private readonly JsonObject document;
    private readonly List<DockerOperation> operations = [];

    private DockerContract(JsonObject document)
    {
        this.document = document;
        foreach (var (template, item) in document["paths"]!.AsObject())
        {
            foreach (var method in Methods)
            {
                if (item![method] is JsonObject operation)
                {
                    var merged = operation.DeepClone().AsObject();
                    // Parameters declared on the path item apply to each of its operations.
                    if (item["parameters"] is JsonArray shared)
                    {
                        var parameters = merged["parameters"] as JsonArray ?? [];
                        foreach (var parameter in shared)
                        {
                            parameters.Add(parameter?.DeepClone());
                        }
                        merged["parameters"] = parameters;
                    }
                    operations.Add(new DockerOperation(method.ToUpperInvariant(), template, new Dictionary<string, string>(), merged));
                }
            }
        }
    }

    public string BasePath => document["basePath"]!.GetValue<string>();

    public IReadOnlyList<DockerOperation> Operations => operations;

    public static DockerContract Load()
    {
        using var reader = new StreamReader(SpecPath);
        var yaml = new YamlStream();
        yaml.Load(reader);
        return new DockerContract(ToJson(yaml.Documents[0].RootNode)!.AsObject());
    }

    /// <summary>
    /// The operation for <paramref name="method"/> and <paramref name="path"/> (without the version prefix). An image
    /// name holds slashes (<c>/images/ghcr.io/x/y:1/json</c>), so a <c>{name}</c> parameter takes as many segments as
    /// the path has to spare, as the daemon's router does.
    /// </summary>
    public DockerOperation? Find(string method, string path)
    {
        var segments = path.Split('/');
        DockerOperation? best = null;
        var bestLiterals = -1;
        foreach (var operation in operations.Where(o => o.Method == method))
        {
            var template = operation.Template.Split('/');
            var spare = segments.Length - template.Length;
            if (spare < 0 || (spare > 0 && !template.Contains("{name}")))
            {
                continue;
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            var literals = 0;
            var matches = true;
            var at = 0;
            foreach (var part in template)
            {
                if (part is ['{', .. var name, '}'])
                {
                    var take = name == "name" ? 1 + spare : 1;
                    var value = string.Join('/', segments[at..(at + take)]);
                    at += take;
                    values[name] = Uri.UnescapeDataString(value);
                    matches &= value.Length > 0;
                }
                else
                {
                    matches &= string.Equals(part, segments[at++], StringComparison.Ordinal);
                    literals++;
                }
                if (!matches)
                {
                    break;
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

    /// <summary>What is wrong with the query: parameters the operation does not declare, values of the wrong type or pattern.</summary>
    public IReadOnlyList<string> CheckQuery(DockerOperation operation, IEnumerable<KeyValuePair<string, string>> query)
    {
        var problems = new List<string>();
        var declared = Parameters(operation).Where(p => p["in"]?.GetValue<string>() == "query")
            .ToDictionary(p => p["name"]!.GetValue<string>(), StringComparer.Ordinal);
        foreach (var (name, value) in query)
        {
            if (!declared.TryGetValue(name, out var parameter))
            {
                problems.Add($"query parameter '{name}' is not a parameter of {operation.Key}; it takes {string.Join(", ", declared.Keys)}");
                continue;
            }
            var type = parameter["type"]?.GetValue<string>();
            if (type == "boolean" && value is not ("0" or "1" or "true" or "false" or "True" or "False"))
            {
                problems.Add($"query parameter '{name}' must be a boolean; got '{value}'");
            }
            else if (type == "integer" && !long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            {
                problems.Add($"query parameter '{name}' must be an integer; got '{value}'");
            }
            else if (parameter["pattern"]?.GetValue<string>() is { } pattern && !Regex.IsMatch(value, pattern, RegexOptions.None, TimeSpan.FromSeconds(1)))
            {
                problems.Add($"query parameter '{name}' must match {pattern}; got '{value}'");
            }
        }
        return problems;
    }

    /// <summary>The schema of the operation's JSON body, or null when it takes none.</summary>
    public JsonObject? BodySchema(DockerOperation operation) =>
        Parameters(operation).FirstOrDefault(p => p["in"]?.GetValue<string>() == "body")?["schema"] as JsonObject;

    /// <summary>The schema of the operation's answer with <paramref name="status"/>, or null when the spec gives none.</summary>
    public JsonObject? ResponseSchema(DockerOperation operation, int status) =>
        operation.Definition["responses"]?[status.ToString(CultureInfo.InvariantCulture)]?["schema"] as JsonObject;

    /// <summary>What is wrong with <paramref name="value"/> for <paramref name="schema"/>; empty when it meets it.</summary>
    public IReadOnlyList<string> Check(JsonElement value, JsonObject schema, string at)
    {
        var problems = new List<string>();
        CheckValue(value, schema, at, problems);
        return problems;
    }

    private static IEnumerable<JsonObject> Parameters(DockerOperation operation) =>
        (operation.Definition["parameters"]?.AsArray() ?? []).Select(p => p!.AsObject());

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
                target = target?[part];
            }
            node = target as JsonObject ?? throw new InvalidOperationException($"{reference} does not name an object");
        }
        return node;
    }

    private void CheckValue(JsonElement value, JsonObject schemaNode, string at, List<string> problems)
    {
        var schema = Resolve(schemaNode);
        if (schema["allOf"] is JsonArray allOf)
        {
            schema = Merge(schema, allOf);
        }

        var type = schema["type"]?.GetValue<string>();
        if (value.ValueKind == JsonValueKind.Null)
        {
            // Swagger 2.0 has no null type; the spec marks fields that may be null with x-nullable, and the daemon's
            // decoder takes null for any pointer, slice or map field, which is what x-nullable documents.
            if (schema["x-nullable"]?.GetValue<bool>() == false)
            {
                problems.Add($"{at}: null where the spec says {type} and x-nullable: false");
            }
            return;
        }

        var kind = JsonType(value);
        if (type is not null && type != kind && !(kind == "integer" && type == "number"))
        {
            problems.Add($"{at}: {kind} {Truncate(value.GetRawText())} where the spec says {type}");
            return;
        }

        if (schema["enum"] is JsonArray choices && !choices.Any(c => JsonNode.DeepEquals(c, JsonNode.Parse(value.GetRawText()))))
        {
            problems.Add($"{at}: {value.GetRawText()} is not one of {choices.ToJsonString()}");
        }
        if (value.ValueKind == JsonValueKind.String && schema["pattern"]?.GetValue<string>() is { } pattern
            && !Regex.IsMatch(value.GetString()!, pattern, RegexOptions.None, TimeSpan.FromSeconds(1)))
        {
            problems.Add($"{at}: '{value.GetString()}' does not match {pattern}");
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
                CheckValue(item, items, $"{at}[{index++}]", problems);
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
                CheckValue(property.Value, propertySchema, where, problems);
            }
            else if (schema["additionalProperties"] is JsonObject extra)
            {
                CheckValue(property.Value, extra, where, problems);
            }
            else if (properties is not null || schema["additionalProperties"]?.GetValueKind() == JsonValueKind.False)
            {
                problems.Add($"{where}: not a field of the spec's schema (the daemon would ignore it)");
            }
        }
    }

    private JsonObject Merge(JsonObject schema, JsonArray parts)
    {
        var merged = new JsonObject();
        var properties = new JsonObject();
        var required = new JsonArray();
        foreach (var part in parts.Select(p => Resolve(p!.AsObject())).Select(p => p["allOf"] is JsonArray inner ? Merge(p, inner) : p).Append(schema))
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

    /// <summary>YAML to JSON: plain scalars are typed as YAML 1.2's core schema types them, quoted ones stay strings.</summary>
    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode mapping => new JsonObject(mapping.Children.Select(pair =>
            KeyValuePair.Create(((YamlScalarNode)pair.Key).Value!, ToJson(pair.Value)))),
        YamlSequenceNode sequence => new JsonArray([.. sequence.Children.Select(ToJson)]),
        YamlScalarNode { Style: ScalarStyle.Plain } scalar => Plain(scalar.Value ?? ""),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value ?? ""),
        _ => throw new InvalidOperationException($"unexpected YAML node {node.NodeType} at {node.Start}"),
    };

    private static JsonValue? Plain(string text) => text switch
    {
        "" or "~" or "null" or "Null" or "NULL" => null,
        "true" or "True" or "TRUE" => JsonValue.Create(true),
        "false" or "False" or "FALSE" => JsonValue.Create(false),
        _ when IntegerPattern().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer) => JsonValue.Create(integer),
        _ when FloatPattern().IsMatch(text) => JsonValue.Create(double.Parse(text, CultureInfo.InvariantCulture)),
        _ => JsonValue.Create(text),
    };

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}
