using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using DecentCloud.Testing;

namespace DecentCloud.Tests.Agent.Proxmox;

/// <summary>One endpoint of the Proxmox API as the facts file records it.</summary>
/// <param name="Template">The schema's path, e.g. <c>/nodes/{node}/qemu/{vmid}/clone</c>.</param>
/// <param name="Parameters">Each parameter's facts (type, optional, format, minimum, maximum, pattern, enum…), by name;
/// a name ending in <c>[n]</c> stands for the numbered ones (<c>ipconfig[n]</c>: <c>ipconfig0</c>, <c>ipconfig1</c>…).</param>
/// <param name="Returns">The shape of <c>data</c> in the answer.</param>
public sealed record ProxmoxEndpoint(string Method, string Template, string Name, JsonObject Parameters, bool AdditionalProperties, JsonObject Returns, JsonNode? Permissions)
{
    public string Key => $"{Method} {Template}";
}

/// <summary>
/// What the Proxmox stand-in knows of the real API: <c>proxmox-api-facts.json</c> beside this file, a small extract of
/// Proxmox VE's API schema (<c>apidata.js</c> of pve-docs, which is AGPL-licensed and so not copied here; SOURCE.md says
/// where it came from). Only the endpoints the agent calls are extracted, and of the VM config only the keys it sets;
/// descriptions are left out. <see cref="Extract"/> makes the file from the original, and a test checks the two agree
/// wherever the original is at hand.
/// </summary>
public sealed class ProxmoxApiFacts
{
    public static readonly string FactsPath = Path.Combine(RepositoryRoot.Path, "tests", "DecentCloud.Tests", "Agent", "Proxmox", "proxmox-api-facts.json");

    /// <summary>The published schema, beside the checkout (absent in a clone on its own).</summary>
    public static readonly string PublishedSchemaPath = Path.GetFullPath(Path.Combine(RepositoryRoot.Path, "..", "shared", "contracts", "proxmox", "apidata.js"));

    /// <summary>The git blob id of the apidata.js the facts were extracted from.</summary>
    public const string SchemaBlob = "4aa6a8fccd77e64e8573dc98b6a852326ae6a035";

    /// <summary>Which endpoints are extracted, and of large ones which parameters and returned properties (null: all).</summary>
    public static readonly IReadOnlyList<(string Method, string Path, string[]? Parameters, string[]? Returns)> Selection =
    [
        ("GET", "/version", null, null),
        ("GET", "/cluster/nextid", null, null),
        ("GET", "/cluster/resources", null, null),
        ("GET", "/nodes/{node}/status", null, null),
        ("POST", "/nodes/{node}/qemu/{vmid}/clone", null, null),
        ("PUT", "/nodes/{node}/qemu/{vmid}/config",
            ["node", "vmid", "ciuser", "cipassword", "sshkeys", "ipconfig[n]", "nameserver", "searchdomain", "tags", "description", "agent", "cores", "sockets", "memory", "delete", "digest", "skiplock"],
            null),
        ("POST", "/nodes/{node}/qemu/{vmid}/status/start", null, null),
        ("POST", "/nodes/{node}/qemu/{vmid}/status/stop", null, null),
        ("GET", "/nodes/{node}/qemu/{vmid}/status/current", null, null),
        ("DELETE", "/nodes/{node}/qemu/{vmid}", null, null),
        ("GET", "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces", null, null),
        ("GET", "/nodes/{node}/tasks/{upid}/status", null, null),
    ];

    /// <summary>The schema keys kept: what a request or an answer is checked by. Descriptions and renderers are dropped.</summary>
    private static readonly HashSet<string> KeptKeys = new(StringComparer.Ordinal)
    {
        "type", "optional", "format", "minimum", "maximum", "minLength", "maxLength", "pattern", "enum",
        "properties", "items", "additionalProperties", "default_key", "alias", "requires",
    };

    private readonly List<ProxmoxEndpoint> endpoints;

    private ProxmoxApiFacts(JsonObject document)
    {
        Document = document;
        endpoints = [.. document["endpoints"]!.AsArray().Select(e => new ProxmoxEndpoint(
            e!["method"]!.GetValue<string>(),
            e["path"]!.GetValue<string>(),
            e["name"]!.GetValue<string>(),
            e["parameters"]!.AsObject(),
            e["additionalProperties"]?.GetValue<int>() == 1,
            e["returns"]!.AsObject(),
            e["permissions"]))];
    }

    public JsonObject Document { get; }

    public IReadOnlyList<ProxmoxEndpoint> Endpoints => endpoints;

    public static ProxmoxApiFacts Load() => new(JsonNode.Parse(File.ReadAllText(FactsPath))!.AsObject());

    /// <summary>The endpoint for a request path (relative to <c>/api2/json</c>), with the path parameters' values.</summary>
    public (ProxmoxEndpoint Endpoint, IReadOnlyDictionary<string, string> Values)? Find(string method, string path)
    {
        foreach (var endpoint in endpoints.Where(e => e.Method == method))
        {
            if (Match(endpoint.Template, path) is { } values)
            {
                return (endpoint, values);
            }
        }
        return null;
    }

    public bool HasPath(string path) => endpoints.Any(e => Match(e.Template, path) is not null);

    private static Dictionary<string, string>? Match(string template, string path)
    {
        var t = template.Trim('/').Split('/');
        var p = path.Trim('/').Split('/');
        if (t.Length != p.Length)
        {
            return null;
        }
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < t.Length; i++)
        {
            if (t[i].StartsWith('{') && t[i].EndsWith('}'))
            {
                values[t[i][1..^1]] = p[i];
            }
            else if (!string.Equals(t[i], p[i], StringComparison.Ordinal))
            {
                return null;
            }
        }
        return values;
    }

    /// <summary>The facts file's content made from <paramref name="apidata"/> (the text of apidata.js: <c>const apiSchema = [ … ];</c>).</summary>
    public static JsonObject Extract(string apidata)
    {
        var json = apidata[apidata.IndexOf('[', StringComparison.Ordinal)..(apidata.LastIndexOf(']') + 1)];
        var tree = JsonNode.Parse(json)!.AsArray();
        var byPath = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        Walk(tree, byPath);

        var extracted = new JsonArray();
        foreach (var (method, path, parameters, returns) in Selection)
        {
            var info = byPath.TryGetValue(path, out var node) && node["info"]?[method] is JsonObject found
                ? found
                : throw new InvalidOperationException($"apidata.js has no {method} {path}");
            var schema = info["parameters"]?.AsObject() ?? [];
            var properties = schema["properties"]?.AsObject() ?? [];
            var returnSchema = Keep(info["returns"] ?? new JsonObject())!.AsObject();
            if (returns is not null && returnSchema["properties"] is JsonObject returnProperties)
            {
                returnSchema["properties"] = Pick(returnProperties, returns, $"{method} {path} returns");
            }
            extracted.Add(new JsonObject
            {
                ["method"] = method,
                ["path"] = path,
                ["name"] = info["name"]?.DeepClone(),
                ["allowtoken"] = info["allowtoken"]?.DeepClone(),
                ["protected"] = info["protected"]?.DeepClone(),
                ["proxyto"] = info["proxyto"]?.DeepClone(),
                ["permissions"] = Keep(info["permissions"], keepAll: true),
                ["additionalProperties"] = schema["additionalProperties"]?.DeepClone(),
                ["parameters"] = new JsonObject((parameters is null ? properties : Pick(properties, parameters, $"{method} {path}")).Select(p => KeyValuePair.Create(p.Key, Keep(p.Value)))),
                ["returns"] = returnSchema,
            });
        }

        return new JsonObject
        {
            ["source"] = new JsonObject
            {
                ["what"] = "Facts extracted from Proxmox VE's API schema for the Proxmox stand-in: the endpoints dc-agent calls, their parameters (of the VM config only the keys it sets), types, required flags, formats, patterns, enums, permissions and return shapes. Descriptions are left out. The schema itself is AGPL-3.0-or-later and is not copied into this repository.",
                ["file"] = "api-viewer/apidata.js",
                ["repository"] = "proxmox/pve-docs (mirror of git://git.proxmox.com/git/pve-docs.git)",
                ["blob"] = SchemaBlob,
                ["lastChangedBy"] = "a8736b6d6169ea9679ee02285ea36fdab42e85c3 (2026-04-30, \"update static/schema information\")",
                ["pveVersion"] = "Proxmox VE 9.x (pve-docs 9.1.3)",
                ["extractedOn"] = "2026-12-07",
                ["extractedBy"] = "tests/DecentCloud.Tests/Agent/Proxmox/ProxmoxApiFacts.cs (Extract)",
            },
            ["endpoints"] = extracted,
        };
    }

    private static void Walk(JsonArray nodes, Dictionary<string, JsonObject> byPath)
    {
        foreach (var node in nodes.OfType<JsonObject>())
        {
            byPath[node["path"]!.GetValue<string>()] = node;
            if (node["children"] is JsonArray children)
            {
                Walk(children, byPath);
            }
        }
    }

    private static JsonObject Pick(JsonObject properties, string[] names, string where)
    {
        var picked = new JsonObject();
        foreach (var name in names)
        {
            picked[name] = properties[name]?.DeepClone() ?? throw new InvalidOperationException($"apidata.js: {where} has no '{name}'");
        }
        return picked;
    }

    /// <summary>A schema node without its prose: only <see cref="KeptKeys"/>, recursively (property names are kept as they are).</summary>
    private static JsonNode? Keep(JsonNode? node, bool keepAll = false)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonArray array:
                return new JsonArray([.. array.Select(item => Keep(item, keepAll))]);
            case JsonObject obj when keepAll:
                return new JsonObject(obj.Where(p => p.Key != "description").Select(p => KeyValuePair.Create(p.Key, Keep(p.Value, keepAll: true))));
            case JsonObject obj:
                var kept = new JsonObject();
                foreach (var (key, value) in obj)
                {
                    if (key is "properties" && value is JsonObject properties)
                    {
                        kept[key] = new JsonObject(properties.Select(p => KeyValuePair.Create(p.Key, Keep(p.Value))));
                    }
                    else if (key is "format" && value is JsonObject propertyString)
                    {
                        // A property string ("[current=]<integer>"): its keys are names, each with its own schema.
                        kept[key] = new JsonObject(propertyString.Select(p => KeyValuePair.Create(p.Key, Keep(p.Value))));
                    }
                    else if (KeptKeys.Contains(key))
                    {
                        kept[key] = Keep(value);
                    }
                }
                return kept;
            default:
                return node.DeepClone();
        }
    }

    /// <summary>The extract as the file holds it: two-space indents, a final line break.</summary>
    public static string Format(JsonObject facts) =>
        facts.ToJsonString(new JsonSerializerOptions { WriteIndented = true, IndentSize = 2, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";

    public static int IntValue(JsonNode? node) => node switch
    {
        JsonValue value when value.TryGetValue<int>(out var i) => i,
        JsonValue value when value.TryGetValue<string>(out var s) => int.Parse(s, CultureInfo.InvariantCulture),
        _ => 0,
    };
}
