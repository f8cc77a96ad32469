namespace DecentCloud.Functions.Platform.Http;

/// <summary>
/// On an HTTP function that reads a JSON body with <see cref="JsonBodies.ReadAsync"/>: the body's type, for readers of the
/// function (and the tests that send it every kind of bad body); the function's signature no longer shows it.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class JsonBodyAttribute(Type type) : Attribute
{
    public Type Type { get; } = type;
}

/// <summary>On an HTTP function: the query parameters it reads with <see cref="QueryValues"/>.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class QueryAttribute(params string[] names) : Attribute
{
    public IReadOnlyList<string> Names { get; } = names;
}
