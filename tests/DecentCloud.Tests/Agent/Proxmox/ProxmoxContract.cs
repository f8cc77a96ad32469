using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace DecentCloud.Tests.Agent.Proxmox;

/// <summary>
/// Checks a request's parameters and an answer's <c>data</c> against <see cref="ProxmoxApiFacts"/>, the way Proxmox's
/// <c>PVE::JSONSchema::validate</c> checks parameters: every parameter must be in the schema (no additional properties),
/// every non-optional one present, and each value of its type, range, length, pattern (anchored), enum and format.
/// Error texts follow Proxmox's ("property is missing and it is not optional").
/// </summary>
public static partial class ProxmoxContract
{
    /// <summary>The parameter problems of a request, by parameter name; empty when it meets the schema.</summary>
    public static Dictionary<string, string> CheckParameters(ProxmoxEndpoint endpoint, IReadOnlyDictionary<string, string> values)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            if (SchemaOf(endpoint, name) is not { } schema)
            {
                if (!endpoint.AdditionalProperties)
                {
                    errors[name] = "property is not defined in schema and the schema does not allow additional properties";
                }
                continue;
            }
            if (CheckValue(schema, value) is { } problem)
            {
                errors[name] = problem;
            }
        }
        foreach (var (name, schema) in endpoint.Parameters)
        {
            if (!name.EndsWith("[n]", StringComparison.Ordinal) && !IsOptional(schema) && !values.ContainsKey(name))
            {
                errors[name] = "property is missing and it is not optional";
            }
        }
        return errors;
    }

    /// <summary>Where an answer's <c>data</c> differs from the shape the schema gives for it (the stand-in's own mistakes).</summary>
    public static List<string> CheckAnswer(ProxmoxEndpoint endpoint, JsonNode? data)
    {
        var problems = new List<string>();
        CheckShape(endpoint.Returns, data, "data", problems);
        return problems;
    }

    /// <summary>A parameter's schema: by its name, or for <c>ipconfig0</c> by <c>ipconfig[n]</c>.</summary>
    private static JsonObject? SchemaOf(ProxmoxEndpoint endpoint, string name)
    {
        if (endpoint.Parameters[name] is JsonObject exact)
        {
            return exact;
        }
        var numbered = NumberedName().Match(name);
        return numbered.Success && endpoint.Parameters[numbered.Groups["base"].Value + "[n]"] is JsonObject indexed ? indexed : null;
    }

    private static bool IsOptional(JsonNode? schema) => schema?["optional"] is JsonValue v && ProxmoxApiFacts.IntValue(v) == 1;

    private static string? CheckValue(JsonObject schema, string value)
    {
        var type = schema["type"]?.GetValue<string>() ?? "string";
        switch (type)
        {
            case "integer":
                if (!IntegerText().IsMatch(value) || !long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
                {
                    return $"type check ('integer') failed - got '{value}'";
                }
                return CheckRange(schema, integer);
            case "number":
                return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                    ? CheckRange(schema, number)
                    : $"type check ('number') failed - got '{value}'";
            case "boolean":
                // Proxmox takes 1/0, true/false, yes/no, on/off; dc-agent sends 1 and 0 (docs/agent.md).
                return value is "0" or "1" ? null : $"type check ('boolean') failed - got '{value}' (dc-agent sends 0 or 1)";
            case "string":
                break;
            default:
                return $"the stand-in does not check parameters of type '{type}'";
        }

        if (schema["maxLength"] is { } maxLength && value.Length > ProxmoxApiFacts.IntValue(maxLength))
        {
            return $"value may only be {ProxmoxApiFacts.IntValue(maxLength)} characters long";
        }
        if (schema["minLength"] is { } minLength && value.Length < ProxmoxApiFacts.IntValue(minLength))
        {
            return $"value must be at least {ProxmoxApiFacts.IntValue(minLength)} characters long";
        }
        if (schema["pattern"] is { } pattern && !Regex.IsMatch(value, $"^(?:{pattern.GetValue<string>()})$"))
        {
            return $"value does not match the regex pattern";
        }
        if (schema["enum"] is JsonArray allowed && !allowed.Any(a => a?.GetValue<string>() == value))
        {
            return $"value '{value}' does not have a value in the enumeration '{string.Join(", ", allowed.Select(a => a?.GetValue<string>()))}'";
        }
        return schema["format"] switch
        {
            JsonValue format => ProxmoxFormats.Check(format.GetValue<string>(), value),
            JsonObject propertyString => CheckPropertyString(propertyString, value),
            _ => null,
        };
    }

    private static string? CheckRange(JsonObject schema, double value)
    {
        if (schema["minimum"] is { } minimum && value < double.Parse(minimum.ToString(), CultureInfo.InvariantCulture))
        {
            return $"value must have a minimum value of {minimum}";
        }
        if (schema["maximum"] is { } maximum && value > double.Parse(maximum.ToString(), CultureInfo.InvariantCulture))
        {
            return $"value must have a maximum value of {maximum}";
        }
        return null;
    }

    /// <summary><c>[current=]&lt;integer&gt;</c>: comma-separated <c>key=value</c> pairs, the default key's value may come bare.</summary>
    private static string? CheckPropertyString(JsonObject format, string value)
    {
        foreach (var part in value.Split(','))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            string key;
            string text;
            if (equals < 0)
            {
                key = format.FirstOrDefault(p => p.Value?["default_key"] is { } d && ProxmoxApiFacts.IntValue(d) == 1).Key
                    ?? string.Empty;
                text = part;
                if (key.Length == 0)
                {
                    return $"invalid format - no default key for '{part}'";
                }
            }
            else
            {
                key = part[..equals];
                text = part[(equals + 1)..];
            }
            if (format[key] is not JsonObject schema)
            {
                return $"invalid format - property '{key}' is not defined in the format";
            }
            if (schema["alias"] is JsonValue alias)
            {
                schema = format[alias.GetValue<string>()]!.AsObject();
            }
            if (CheckValue(schema, text) is { } problem)
            {
                return $"invalid format - {key}: {problem}";
            }
        }
        return null;
    }

    private static void CheckShape(JsonNode? schema, JsonNode? data, string where, List<string> problems)
    {
        if (schema is not JsonObject s)
        {
            return;
        }
        var type = s["type"]?.GetValue<string>();
        if (data is null)
        {
            if (type is not (null or "null") && !IsOptional(s))
            {
                problems.Add($"{where} is null, the schema says {type}");
            }
            return;
        }
        switch (type)
        {
            case "object":
                if (data is not JsonObject obj)
                {
                    problems.Add($"{where} is not an object");
                    return;
                }
                var properties = s["properties"] as JsonObject;
                if (properties is null)
                {
                    return;
                }
                foreach (var (name, property) in properties)
                {
                    if (!IsOptional(property) && !obj.ContainsKey(name))
                    {
                        problems.Add($"{where}.{name} is missing and not optional");
                    }
                }
                foreach (var (name, value) in obj)
                {
                    if (properties[name] is { } property)
                    {
                        CheckShape(property, value, $"{where}.{name}", problems);
                    }
                    else if (s["additionalProperties"] is not { } more || ProxmoxApiFacts.IntValue(more) != 1)
                    {
                        problems.Add($"{where}.{name} is not in the schema");
                    }
                }
                return;
            case "array":
                if (data is not JsonArray array)
                {
                    problems.Add($"{where} is not an array");
                    return;
                }
                for (var i = 0; i < array.Count; i++)
                {
                    CheckShape(s["items"], array[i], $"{where}[{i}]", problems);
                }
                return;
            case "string" when data.GetValueKind() != System.Text.Json.JsonValueKind.String:
                problems.Add($"{where} is not a string");
                return;
            case "integer" when data.GetValueKind() != System.Text.Json.JsonValueKind.Number || !long.TryParse(data.ToJsonString(), out _):
                problems.Add($"{where} is not an integer");
                return;
            case "number" when data.GetValueKind() != System.Text.Json.JsonValueKind.Number:
                problems.Add($"{where} is not a number");
                return;
            case "boolean" when data.ToJsonString() is not ("0" or "1" or "true" or "false"):
                // Proxmox's JSON writes booleans as 0 and 1.
                problems.Add($"{where} is not a boolean (0 or 1)");
                return;
            default:
                if (s["enum"] is JsonArray allowed && !allowed.Any(a => a?.ToJsonString() == data.ToJsonString()))
                {
                    problems.Add($"{where} = {data.ToJsonString()} is not in the enumeration");
                }
                return;
        }
    }

    [GeneratedRegex(@"^(?<base>[a-z]+)(?<index>\d+)$")]
    private static partial Regex NumberedName();

    [GeneratedRegex(@"^[+-]?\d+$")]
    private static partial Regex IntegerText();
}

/// <summary>
/// The value formats the facts name, as Proxmox checks them: the patterns are those registered in pve-common's
/// <c>src/PVE/JSONSchema.pm</c> (pve-vmid, pve-node, dns-name, pve-storage-id, pve-configid, urlencoded, the IP formats),
/// pve-access-control's <c>PVE/AccessControl.pm</c> (pve-poolid), pve-common's tag pattern (pve-tag, lists split on
/// <c>;</c>, <c>,</c> and spaces) and qemu-server's cloud-init <c>ipconfig</c> format (ip=dhcp|CIDRv4, gw, ip6=dhcp|auto|CIDRv6, gw6).
/// </summary>
public static partial class ProxmoxFormats
{
    /// <summary>Null when <paramref name="value"/> has the format; else Proxmox's kind of message.</summary>
    public static string? Check(string format, string value) => format switch
    {
        "pve-vmid" => VmidPattern().IsMatch(value) ? null : "value does not look like a valid VM ID",
        "pve-node" => NodePattern().IsMatch(value) ? null : "value does not look like a valid node name",
        "dns-name" => DnsNamePattern().IsMatch(value) ? null : "value does not look like a valid DNS name",
        "pve-storage-id" => StoragePattern().IsMatch(value) ? null : $"storage ID '{value}' contains illegal characters",
        "pve-poolid" => PoolPattern().IsMatch(value) ? null : $"pool name '{value}' contains invalid characters",
        "pve-configid" => ConfigIdPattern().IsMatch(value) ? null : $"invalid configuration ID '{value}'",
        "pve-configid-list" => List(value).All(ConfigIdPattern().IsMatch) ? null : $"invalid configuration ID list '{value}'",
        "urlencoded" => UrlEncodedPattern().IsMatch(value) ? null : $"invalid urlencoded string: {value}",
        "pve-tag-list" => List(value).All(TagPattern().IsMatch) ? null : $"invalid tag list '{value}'",
        "address-list" => List(value).All(a => IPAddress.TryParse(a, out _)) ? null : $"invalid address list '{value}'",
        "pve-qm-ipconfig" => IpConfig(value),
        _ => $"the stand-in does not know the format '{format}'; add it to ProxmoxFormats",
    };

    private static string[] List(string value) => value.Split([';', ',', ' ', '\0'], StringSplitOptions.RemoveEmptyEntries);

    private static string? IpConfig(string value)
    {
        foreach (var part in value.Split(','))
        {
            var pair = part.Split('=', 2);
            var ok = pair switch
            {
                ["ip", var ip] => ip is "dhcp" or "manual" || Cidr(ip, AddressFamily.InterNetwork),
                ["gw", var gw] => IPAddress.TryParse(gw, out var a) && a.AddressFamily == AddressFamily.InterNetwork,
                ["ip6", var ip6] => ip6 is "dhcp" or "auto" or "manual" || Cidr(ip6, AddressFamily.InterNetworkV6),
                ["gw6", var gw6] => IPAddress.TryParse(gw6, out var a6) && a6.AddressFamily == AddressFamily.InterNetworkV6,
                _ => false,
            };
            if (!ok)
            {
                return $"invalid format - '{part}' is not ip=, gw=, ip6= or gw6= with a valid value";
            }
        }
        return null;
    }

    /// <summary>CIDRv4 (prefix 8..32) or CIDRv6 (8..128), as pve_verify_cidrv4/6.</summary>
    private static bool Cidr(string text, AddressFamily family)
    {
        var parts = text.Split('/');
        return parts.Length == 2
            && IPAddress.TryParse(parts[0], out var address) && address.AddressFamily == family
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var prefix)
            && prefix > 7 && prefix <= (family == AddressFamily.InterNetwork ? 32 : 128);
    }

    [GeneratedRegex("^[1-9][0-9]{2,8}$")]
    private static partial Regex VmidPattern();

    [GeneratedRegex("^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)$")]
    private static partial Regex NodePattern();

    [GeneratedRegex(@"^(([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)\.)*([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)$")]
    private static partial Regex DnsNamePattern();

    [GeneratedRegex(@"^[a-z][a-z0-9\-_.]*[a-z0-9]$", RegexOptions.IgnoreCase)]
    private static partial Regex StoragePattern();

    [GeneratedRegex(@"^[A-Za-z0-9.\-_]+$")]
    private static partial Regex PoolPattern();

    [GeneratedRegex("^[a-z][a-z0-9_-]+$", RegexOptions.IgnoreCase)]
    private static partial Regex ConfigIdPattern();

    [GeneratedRegex(@"^[-%a-zA-Z0-9_.!~*'()]*$")]
    private static partial Regex UrlEncodedPattern();

    [GeneratedRegex(@"^[a-z0-9_][a-z0-9_\-+.]*$", RegexOptions.IgnoreCase)]
    private static partial Regex TagPattern();
}
