using System.Text.Json;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace DecentCloud.FunctionsHost.Worker;

/// <summary>One function as the worker described it (its metadata, with the bindings' attributes as JSON).</summary>
internal sealed class FunctionDescriptor
{
    private FunctionDescriptor(RpcFunctionMetadata metadata, BindingDescriptor trigger, IReadOnlyList<BindingDescriptor> inputs, IReadOnlyList<BindingDescriptor> outputs)
    {
        Metadata = metadata;
        Trigger = trigger;
        Inputs = inputs;
        Outputs = outputs;
    }

    public string Name => Metadata.Name;

    public string Id => Metadata.FunctionId;

    public RpcFunctionMetadata Metadata { get; }

    public BindingDescriptor Trigger { get; }

    /// <summary>The input bindings besides the trigger (a durable client, for example).</summary>
    public IReadOnlyList<BindingDescriptor> Inputs { get; }

    public IReadOnlyList<BindingDescriptor> Outputs { get; }

    public static FunctionDescriptor From(RpcFunctionMetadata metadata)
    {
        var bindings = new List<BindingDescriptor>();
        foreach (var raw in metadata.RawBindings)
        {
            try
            {
                using var document = JsonDocument.Parse(raw);
                bindings.Add(new BindingDescriptor(document.RootElement.Clone()));
            }
            catch (JsonException ex)
            {
                throw new InvalidOperationException($"Function {metadata.Name} has a binding that is not JSON: {raw}", ex);
            }
        }

        var triggers = bindings.Where(b => b.IsTrigger).ToList();
        if (triggers.Count != 1)
        {
            throw new InvalidOperationException($"Function {metadata.Name} has {triggers.Count} triggers; a function has exactly one.");
        }

        return new FunctionDescriptor(metadata, triggers[0], bindings.Where(b => !b.IsTrigger && !b.IsOutput).ToList(), bindings.Where(b => b.IsOutput).ToList());
    }
}

/// <summary>One binding of a function, as functions.metadata writes it (<c>name</c>, <c>type</c>, <c>direction</c>, and the attribute's properties).</summary>
internal sealed class BindingDescriptor(JsonElement raw)
{
    public string Name => Text("name") ?? "";

    public string Type => Text("type") ?? "";

    public bool IsTrigger => Type.EndsWith("Trigger", StringComparison.OrdinalIgnoreCase) && !IsOutput;

    public bool IsOutput => Text("direction") is { } direction && direction.StartsWith("out", StringComparison.OrdinalIgnoreCase);

    public bool Is(string type) => string.Equals(Type, type, StringComparison.OrdinalIgnoreCase);

    /// <summary>A string property of the binding (names compared without case, as the Functions host does).</summary>
    public string? Text(string name) =>
        Find(raw, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    public bool? Flag(string name) => Find(raw, name) switch
    {
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        { ValueKind: JsonValueKind.String } value when bool.TryParse(value.GetString(), out var flag) => flag,
        _ => null,
    };

    public IReadOnlyList<string>? Texts(string name) =>
        Find(raw, name) is { ValueKind: JsonValueKind.Array } values
            ? values.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToList()
            : null;

    /// <summary>An entry of the binding's <c>properties</c> object (what the Worker SDK adds, such as supportsDeferredBinding).</summary>
    public string? Property(string name) =>
        Find(raw, "properties") is { ValueKind: JsonValueKind.Object } properties && Find(properties, name) is { } value
            ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText()
            : null;

    private static JsonElement? Find(JsonElement element, string name)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }

        return null;
    }
}
