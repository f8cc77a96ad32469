// A local stand-in for the EU VIES REST API (https://ec.europa.eu/taxation_customs/vies/rest-api/), answering
// POST check-vat-number as the real service does. What it is built from:
//
// - The Commission's Swagger file for the REST API, https://ec.europa.eu/assets/taxud/vow-information/swagger_publicVAT.yaml
//   (linked from https://ec.europa.eu/taxation_customs/vies/#/technical-information; a copy is kept in
//   https://github.com/conedevelopment/vies-php/blob/master/openapi.yml): POST /check-vat-number takes
//   CheckVatRequest {countryCode, vatNumber, requesterMemberStateCode, requesterNumber, trader*} and answers 200
//   with CheckVatResponse {countryCode, vatNumber, requestDate (date-time), valid, requestIdentifier, name, address,
//   traderName, traderStreet, traderPostalCode, traderCity, traderCompanyType, trader*Match (VALID | INVALID |
//   NOT_PROCESSED)}; 400 and 500 answer CommonResponse {actionSucceed, errorWrappers: [{error, message}]}. There is
//   also POST /check-vat-test-service and GET /check-status.
// - The GET form GET /ms/{countryCode}/vat/{vatNumber} answers {isValid, requestDate, userError, name, address,
//   requestIdentifier, vatNumber, viesApproximate}; userError is VALID, INVALID or an error code, and errors such as
//   IP_BLOCKED come with HTTP 200 and isValid false (https://github.com/annuaire-entreprises-data-gouv-fr/site/issues/475).
//   This stand-in serves only the POST form, which is what the project calls.
// - Error codes (VIES's SOAP WSDL and test service, https://ec.europa.eu/taxation_customs/vies/checkVatTestService.wsdl):
//   INVALID_INPUT ("the provided CountryCode is invalid or the VAT number is empty"), INVALID_REQUESTER_INFO,
//   SERVICE_UNAVAILABLE, MS_UNAVAILABLE, TIMEOUT, VAT_BLOCKED, IP_BLOCKED, GLOBAL_MAX_CONCURRENT_REQ(_TIME),
//   MS_MAX_CONCURRENT_REQ(_TIME). Only INVALID_INPUT says something about the number; the others mean VIES could
//   not answer (https://vatvalidate.eu/vies-errors).
// - Errors in the REST API come as {"actionSucceed":false,"errorWrappers":[{"error":"MS_UNAVAILABLE"}]} with HTTP 200:
//   MS_UNAVAILABLE and MS_MAX_CONCURRENT_REQ logged from live calls in
//   https://github.com/jofme/D365FinanceToolbox/issues/73; the parser in https://github.com/zapadi/vies-dotnet
//   (Parsers/Json/JsonResponseParser.cs) treats actionSucceed false or any errorWrappers as an error whatever the
//   status. Which status a malformed request gets is not published beyond the Swagger file's "400: CommonResponse";
//   this stand-in answers 400 with INVALID_INPUT for a body that breaks CheckVatRequest or names no VIES country.
// - An unknown number is {"valid":false,"name":"---","address":"---",...} with HTTP 200; name and address are also
//   "---" for a valid number whose member state does not disclose them (Germany and Spain, per
//   https://github.com/justasojourner/VatCheck).
// - Greece's prefix is EL, not GR; VIES's country codes are the 27 member states' prefixes plus XI (Northern Ireland).
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Billing;

public enum ViesFailure
{
    None,

    /// <summary>HTTP 200 with the error envelope MS_UNAVAILABLE: the member state's registry is down.</summary>
    MemberStateUnavailable,

    /// <summary>HTTP 200 with the error envelope MS_MAX_CONCURRENT_REQ.</summary>
    MemberStateBusy,

    /// <summary>HTTP 500 with the error envelope SERVICE_UNAVAILABLE.</summary>
    ServerError,

    /// <summary>Answers only after <see cref="ViesStandIn.SlowDelay"/>, longer than any client timeout in the tests.</summary>
    Slow,
}

/// <summary>One request as the stand-in received it.</summary>
/// <param name="At">By the stand-in's clock (the test's FakeTimeProvider, when it gave one).</param>
/// <param name="Rejection">Why the stand-in answered 400, or null when the request met the contract.</param>
public sealed record ViesRequest(string Method, string Path, string? ContentType, string Body, DateTimeOffset At, string? Rejection)
{
    /// <summary>Checks this is an accepted JSON <c>check-vat-number</c> request for exactly this country code and number.</summary>
    public void AssertCheckOf(string countryCode, string vatNumber)
    {
        Assert.Equal(("POST", ViesStandIn.RootPath + "check-vat-number", null), (Method, Path, Rejection));
        Assert.StartsWith("application/json", ContentType, StringComparison.Ordinal);
        using var body = System.Text.Json.JsonDocument.Parse(Body);
        Assert.Equal([("countryCode", countryCode), ("vatNumber", vatNumber)], body.RootElement.EnumerateObject().Select(p => (p.Name, p.Value.GetString())).ToArray());
    }
}

public sealed class ViesStandIn : IAsyncDisposable
{
    public const string RootPath = "/taxation_customs/vies/rest-api/";

    private static readonly HashSet<string> ViesCountries = new(
        "AT BE BG CY CZ DE DK EE EL ES FI FR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK XI".Split(' '),
        StringComparer.Ordinal);

    private static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true };

    private readonly ConcurrentDictionary<(string Country, string Number), Trader> traders = new();
    private readonly List<ViesRequest> requests = [];
    private readonly TimeProvider clock;
    private readonly WebApplication app;
    private ViesFailure failure;
    private int failuresLeft;

    private ViesStandIn(TimeProvider clock)
    {
        this.clock = clock;
        app = LoopbackServer.CreateBuilder().Build();
        app.Run(HandleAsync);
    }

    /// <summary>The REST API's root, as VIES_BASE_URL would name it.</summary>
    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    public TimeSpan SlowDelay { get; set; } = TimeSpan.FromSeconds(30);

    public IReadOnlyList<ViesRequest> Requests
    {
        get
        {
            lock (requests)
            {
                return [.. requests];
            }
        }
    }

    public static async Task<ViesStandIn> StartAsync(TimeProvider? clock = null)
    {
        var standIn = new ViesStandIn(clock ?? TimeProvider.System);
        await standIn.app.StartAsync();
        standIn.BaseAddress = new Uri(LoopbackServer.AddressOf(standIn.app), RootPath);
        return standIn;
    }

    /// <summary>A registered number; <paramref name="name"/> or <paramref name="address"/> null answers "---", as for a state that does not disclose them.</summary>
    public void AddValid(string countryCode, string vatNumber, string? name, string? address) =>
        traders[(countryCode, vatNumber)] = new Trader(name, address);

    /// <summary>The next <paramref name="times"/> checks fail this way; then it answers again.</summary>
    public void FailWith(ViesFailure mode, int times = int.MaxValue)
    {
        lock (requests)
        {
            failure = mode;
            failuresLeft = times;
        }
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var isCheck = HttpMethods.IsPost(request.Method) && request.Path.Value == RootPath + "check-vat-number";
        var (parsed, rejection) = isCheck ? Validate(request.ContentType, body) : (null, null);
        ViesFailure mode;
        lock (requests)
        {
            requests.Add(new ViesRequest(request.Method, request.Path.Value ?? "", request.ContentType, body, clock.GetUtcNow(), rejection));
            mode = failuresLeft > 0 ? failure : ViesFailure.None;
            if (mode != ViesFailure.None && failuresLeft != int.MaxValue)
            {
                failuresLeft--;
            }
        }

        if (!isCheck)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (rejection is not null)
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "INVALID_INPUT", rejection);
            return;
        }

        switch (mode)
        {
            case ViesFailure.MemberStateUnavailable:
                await ErrorAsync(context, StatusCodes.Status200OK, "MS_UNAVAILABLE", null);
                return;
            case ViesFailure.MemberStateBusy:
                await ErrorAsync(context, StatusCodes.Status200OK, "MS_MAX_CONCURRENT_REQ", null);
                return;
            case ViesFailure.ServerError:
                await ErrorAsync(context, StatusCodes.Status500InternalServerError, "SERVICE_UNAVAILABLE", null);
                return;
            case ViesFailure.Slow:
                await Task.Delay(SlowDelay, context.RequestAborted);
                break;
        }

        var (country, number) = parsed!.Value;
        traders.TryGetValue((country, number), out var trader);
        await JsonAsync(context, StatusCodes.Status200OK, new JsonObject
        {
            ["countryCode"] = country,
            ["vatNumber"] = number,
            ["requestDate"] = clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            ["valid"] = trader is not null,
            ["requestIdentifier"] = "",
            ["name"] = trader?.Name ?? "---",
            ["address"] = trader?.Address ?? "---",
            ["traderName"] = "---",
            ["traderStreet"] = "---",
            ["traderPostalCode"] = "---",
            ["traderCity"] = "---",
            ["traderCompanyType"] = "---",
            ["traderNameMatch"] = "NOT_PROCESSED",
            ["traderStreetMatch"] = "NOT_PROCESSED",
            ["traderPostalCodeMatch"] = "NOT_PROCESSED",
            ["traderCityMatch"] = "NOT_PROCESSED",
            ["traderCompanyTypeMatch"] = "NOT_PROCESSED",
        });
    }

    /// <summary>The request as CheckVatRequest: JSON, countryCode one of VIES's prefixes, vatNumber present.</summary>
    private static ((string Country, string Number)? Parsed, string? Rejection) Validate(string? contentType, string body)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType) || !mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, $"content type '{contentType}' is not application/json");
        }

        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(body);
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return (null, "the body is not JSON");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            return (null, "the body is not a JSON object");
        }

        if (!root.TryGetProperty("countryCode", out var country) || country.ValueKind != JsonValueKind.String
            || country.GetString() is not { Length: 2 } code || !code.All(char.IsAsciiLetterUpper))
        {
            return (null, "countryCode is not two capital letters");
        }

        if (!ViesCountries.Contains(code))
        {
            return (null, $"countryCode {code} is not a VIES country");
        }

        if (!root.TryGetProperty("vatNumber", out var number) || number.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(number.GetString()))
        {
            return (null, "vatNumber is missing or empty");
        }

        return ((code, number.GetString()!), null);
    }

    private static Task ErrorAsync(HttpContext context, int status, string code, string? message)
    {
        var wrapper = new JsonObject { ["error"] = code };
        if (message is not null)
        {
            wrapper["message"] = message;
        }

        return JsonAsync(context, status, new JsonObject { ["actionSucceed"] = false, ["errorWrappers"] = new JsonArray(wrapper) });
    }

    private static async Task JsonAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(Pretty), context.RequestAborted);
    }

    private sealed record Trader(string? Name, string? Address);
}
