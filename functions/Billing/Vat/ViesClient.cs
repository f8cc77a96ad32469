using System.Net.Http.Json;
using System.Globalization;
using System.Text.Json;

namespace DecentCloud.Functions.Billing.Vat;

/// <summary>A definite answer from VIES about one VAT ID.</summary>
/// <param name="Valid">False for a number VIES does not know and for one it rejects as malformed (INVALID_INPUT).</param>
/// <param name="Name">As the member state registered it; null where VIES shows "---" (some states never disclose it).</param>
/// <param name="RequestDate">VIES's own time of the check.</param>
/// <param name="UserError">VIES's <c>userError</c> or error code when it gave one (VALID, INVALID, INVALID_INPUT).</param>
public sealed record ViesAnswer(bool? Valid, string? Name, string? Address, DateTimeOffset? RequestDate, string? UserError);

/// <summary>VIES gave no answer about the number: it, the member state's registry or the way to them failed.</summary>
public sealed class ViesUnavailableException : Exception
{
    public ViesUnavailableException()
        : this("VIES is unavailable")
    {
    }

    public ViesUnavailableException(string message)
        : this(message, null)
    {
    }

    public ViesUnavailableException(string message, Exception? innerException)
        : base(message, innerException) => Reason = message;

    public ViesUnavailableException(string maskedVatId, string reason, Exception? innerException)
        : base($"checking VAT ID {maskedVatId} with VIES: {reason}", innerException) => Reason = reason;

    /// <summary>VIES's error code (MS_UNAVAILABLE, TIMEOUT, …) or what failed on the way (HTTP 500, timed out, connection failed).</summary>
    public string Reason { get; }
}

/// <summary>
/// The EU VIES REST API's <c>POST check-vat-number</c>. The base address and the per-call timeout come from
/// <see cref="VatOptions"/> (see <see cref="VatServices"/>).
/// </summary>
/// <remarks>
/// How VIES answers (its published Swagger file, https://ec.europa.eu/assets/taxud/vow-information/swagger_publicVAT.yaml,
/// and what integrations observed live): a check is <c>{"countryCode":"DE","vatNumber":"123456789"}</c> with the
/// prefix (EL for Greece) apart from the number; an answer has <c>valid</c>, <c>requestDate</c>, <c>name</c> and
/// <c>address</c> ("---" when not disclosed). A failure is <c>{"actionSucceed":false,"errorWrappers":[{"error":"MS_UNAVAILABLE"}]}</c>,
/// and it comes with HTTP 200 as often as with 400 or 500, so the status alone decides nothing. The GET form
/// (<c>/ms/{country}/vat/{number}</c>) says <c>isValid</c> and puts the code in <c>userError</c> instead; both
/// shapes are read.
/// </remarks>
public sealed class ViesClient(HttpClient http)
{
    public const string CheckPath = "check-vat-number";

    /// <summary>Codes that say something about the number itself; every other code means VIES could not answer.</summary>
    private static readonly HashSet<string> DefiniteCodes = new(["VALID", "INVALID", "INVALID_INPUT"], StringComparer.Ordinal);

    /// <summary>Asks VIES about <paramref name="number"/> under <paramref name="countryPrefix"/> (EL for Greece).</summary>
    /// <exception cref="ViesUnavailableException">VIES could not answer; nothing is known about the number.</exception>
    public async Task<ViesAnswer> CheckAsync(string countryPrefix, string number, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(countryPrefix);
        ArgumentException.ThrowIfNullOrWhiteSpace(number);
        var masked = VatIds.Mask(countryPrefix + number);
        string body;
        int status;
        try
        {
            using var response = await http.PostAsJsonAsync(CheckPath, new CheckVatRequest(countryPrefix, number), cancellationToken);
            status = (int)response.StatusCode;
            body = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new ViesUnavailableException(masked, "connection failed", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // HttpClient.Timeout ends the call with a cancellation the caller did not ask for.
            throw new ViesUnavailableException(masked, "timed out", ex);
        }

        if (status >= 500)
        {
            throw new ViesUnavailableException(masked, $"HTTP {status}", new HttpRequestException($"VIES answered HTTP {status}: {Truncate(body)}"));
        }

        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(body);
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new ViesUnavailableException(masked, $"HTTP {status} with a body that is not JSON", ex);
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ViesUnavailableException(masked, $"HTTP {status} with a JSON {root.ValueKind}, not an object", null);
        }

        var requestDate = ReadDate(root);
        var code = ErrorCode(root);
        if (code is not null && !DefiniteCodes.Contains(code))
        {
            throw new ViesUnavailableException(masked, code, null);
        }

        if (code == "INVALID_INPUT")
        {
            // VIES rejects a number that cannot exist (bad country code, wrong format) itself, without asking the member state.
            return new ViesAnswer(false, null, null, requestDate, code);
        }

        var valid = ReadBool(root, "valid") ?? ReadBool(root, "isValid");
        if (status is < 200 or > 299 || valid is null)
        {
            throw new ViesUnavailableException(masked, $"HTTP {status} without a verdict", new HttpRequestException($"VIES answered HTTP {status}: {Truncate(body)}"));
        }

        return new ViesAnswer(valid, ReadText(root, "name"), ReadText(root, "address"), requestDate, code);
    }

    /// <summary>The first <c>errorWrappers[].error</c>, else <c>userError</c>.</summary>
    private static string? ErrorCode(JsonElement root)
    {
        if (root.TryGetProperty("errorWrappers", out var wrappers) && wrappers.ValueKind == JsonValueKind.Array)
        {
            foreach (var wrapper in wrappers.EnumerateArray())
            {
                if (wrapper.ValueKind == JsonValueKind.Object && ReadText(wrapper, "error") is { } error)
                {
                    return error;
                }
            }

            // An error envelope without a code is still no answer.
            return "UNSPECIFIED_ERROR";
        }

        if (ReadBool(root, "actionSucceed") == false)
        {
            return "UNSPECIFIED_ERROR";
        }

        return ReadText(root, "userError");
    }

    private static bool? ReadBool(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;

    /// <summary>A string field, trimmed; null when absent, empty or VIES's "---" placeholder.</summary>
    private static string? ReadText(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var text = value.GetString()?.Trim();
        return string.IsNullOrEmpty(text) || text == "---" ? null : text;
    }

    private static DateTimeOffset? ReadDate(JsonElement root) =>
        ReadText(root, "requestDate") is { } text
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
            ? date
            : null;

    private static string Truncate(string body) => body.Length <= 300 ? body : string.Concat(body.AsSpan(0, 300), "…");

    private sealed record CheckVatRequest(string CountryCode, string VatNumber);
}
