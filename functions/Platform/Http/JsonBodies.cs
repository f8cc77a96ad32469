using System.Text.Json;
using Microsoft.Extensions.Options;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace DecentCloud.Functions.Platform.Http;

/// <summary>
/// Reading a function's JSON body into its type, with the rules minimal APIs bind bodies by: a content type other than
/// JSON is a 415, an empty body is null (the function says what it needs), a body that is not JSON of that type is a 400.
/// The refusals are <see cref="BadHttpRequestException"/>s, which <see cref="HttpFunctionMiddleware"/> answers as problems.
/// </summary>
public static class JsonBodies
{
    private static readonly JsonSerializerOptions WebDefaults = new(JsonSerializerDefaults.Web);

    public static async Task<T?> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength == 0)
        {
            return null;
        }

        if (!request.HasJsonContentType())
        {
            throw new BadHttpRequestException(
                $"The body must be JSON (Content-Type application/json); it was {(string.IsNullOrEmpty(request.ContentType) ? "not given" : request.ContentType)}.",
                StatusCodes.Status415UnsupportedMediaType);
        }

        var options = request.HttpContext.RequestServices.GetService<IOptions<HttpJsonOptions>>()?.Value.SerializerOptions ?? WebDefaults;
        try
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, cancellationToken);
            return buffer.Length == 0 ? null : JsonSerializer.Deserialize<T>(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), options);
        }
        catch (JsonException ex)
        {
            throw new BadHttpRequestException($"The body is not a valid {typeof(T).Name}: {ex.Message}", StatusCodes.Status400BadRequest, ex);
        }
    }
}

/// <summary>Query string values of a type other than text, refused as minimal APIs refuse them (400) when they do not parse.</summary>
public static class QueryValues
{
    public static string? Text(HttpRequest request, string name)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Query.TryGetValue(name, out var values) ? values.ToString() : null;
    }

    public static int? WholeNumber(HttpRequest request, string name)
    {
        if (Text(request, name) is not { } text)
        {
            return null;
        }

        return int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new BadHttpRequestException($"The query value {name} must be a whole number; it was \"{text}\".", StatusCodes.Status400BadRequest);
    }
}
