using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using DecentCloud.Testing;

namespace DecentCloud.Tests.Agent.Hetzner;

/// <summary>
/// How hetzner-subset.json is made from Hetzner's published OpenAPI document (cloud.spec.json, SOURCE.md beside the
/// subset): the operations the provisioner calls, each copied whole (parameters, request body, responses, as written),
/// the path items' own parameters, every <c>#/components/...</c> they reference (transitively), and the document's
/// <c>openapi</c>, <c>info</c> (its description holds the prose on errors, rate limits and paging), <c>servers</c>,
/// <c>security</c> and security schemes. Nothing is reworded or reformatted beyond the JSON writer's indentation.
/// </summary>
public static class HetznerSubset
{
    public static readonly string SubsetPath = Path.Combine(RepositoryRoot.Path, "tests", "DecentCloud.Tests", "Agent", "Hetzner", "hetzner-subset.json");

    /// <summary>The published original, in the project's contracts folder beside the checkout (absent in a lone clone).</summary>
    public static readonly string OriginalPath = Path.GetFullPath(Path.Combine(RepositoryRoot.Path, "..", "shared", "contracts", "hetzner", "cloud.spec.json"));

    /// <summary>The operations the provisioner sends, as (method, path template).</summary>
    public static readonly IReadOnlyList<(string Method, string Path)> Operations =
    [
        ("get", "/servers"),
        ("post", "/servers"),
        ("get", "/servers/{id}"),
        ("delete", "/servers/{id}"),
        ("post", "/servers/{id}/actions/poweroff"),
        ("post", "/servers/{id}/actions/poweron"),
        ("post", "/servers/{id}/actions/reset_password"),
        ("get", "/actions/{id}"),
        ("get", "/ssh_keys"),
        ("post", "/ssh_keys"),
        ("delete", "/ssh_keys/{id}"),
        ("get", "/server_types"),
        ("get", "/images"),
        ("get", "/locations"),
    ];

    public static JsonSerializerOptions WriteOptions { get; } = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static JsonObject Extract(JsonObject spec)
    {
        var paths = new JsonObject();
        foreach (var group in Operations.GroupBy(o => o.Path))
        {
            var original = spec["paths"]?[group.Key] as JsonObject ?? throw new InvalidOperationException($"the spec has no path {group.Key}");
            var item = new JsonObject();
            if (original["parameters"] is { } shared)
            {
                item["parameters"] = shared.DeepClone();
            }
            foreach (var (method, _) in group)
            {
                item[method] = (original[method] ?? throw new InvalidOperationException($"the spec has no {method} {group.Key}")).DeepClone();
            }
            paths[group.Key] = item;
        }

        var components = new JsonObject { ["securitySchemes"] = spec["components"]?["securitySchemes"]?.DeepClone() };
        var pending = new Queue<JsonNode>([paths]);
        var copied = new HashSet<string>(StringComparer.Ordinal);
        while (pending.TryDequeue(out var node))
        {
            foreach (var reference in References(node).Where(copied.Add))
            {
                var parts = reference["#/components/".Length..].Split('/');
                var target = spec["components"]?[parts[0]]?[parts[1]] ?? throw new InvalidOperationException($"cannot resolve {reference}");
                var section = components[parts[0]] as JsonObject ?? (JsonObject)(components[parts[0]] = new JsonObject());
                section[parts[1]] = target.DeepClone();
                pending.Enqueue(target);
            }
        }

        return new JsonObject
        {
            ["openapi"] = spec["openapi"]?.DeepClone(),
            ["info"] = spec["info"]?.DeepClone(),
            ["servers"] = spec["servers"]?.DeepClone(),
            ["security"] = spec["security"]?.DeepClone(),
            ["paths"] = paths,
            ["components"] = components,
        };
    }

    public static JsonObject LoadOriginal() => JsonNode.Parse(File.ReadAllText(OriginalPath))!.AsObject();

    public static JsonObject LoadSubset() => JsonNode.Parse(File.ReadAllText(SubsetPath))!.AsObject();

    private static IEnumerable<string> References(JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj)
                {
                    if (key == "$ref" && child is JsonValue value && value.GetValue<string>() is { } reference && reference.StartsWith("#/components/", StringComparison.Ordinal))
                    {
                        yield return reference;
                    }
                    else if (child is not null)
                    {
                        foreach (var found in References(child))
                        {
                            yield return found;
                        }
                    }
                }
                break;
            case JsonArray array:
                foreach (var found in array.Where(c => c is not null).SelectMany(c => References(c!)))
                {
                    yield return found;
                }
                break;
        }
    }
}
