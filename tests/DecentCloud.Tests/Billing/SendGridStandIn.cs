using System.Globalization;
using System.Net.Mail;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Billing;

public sealed record SentAddress(string Email, string? Name);

public sealed record SentAttachment(string FileName, string? Type, string? Disposition, string? ContentId, byte[] Content);

/// <summary>
/// One message as SendGrid would deliver it: one per personalization of an accepted request, with the
/// personalization's subject and custom args over the request's, as SendGrid applies them.
/// </summary>
/// <param name="RequestJson">The whole request body, for anything not parsed out here.</param>
public sealed record SentEmail(
    string MessageId,
    IReadOnlyList<SentAddress> To,
    SentAddress From,
    string? Subject,
    string? Text,
    string? Html,
    IReadOnlyList<SentAttachment> Attachments,
    IReadOnlyDictionary<string, string> CustomArgs,
    string RequestJson);

/// <summary>
/// SendGrid's v3 Mail Send endpoint on Kestrel at 127.0.0.1 (a random port), answering as the real one does:
/// <c>POST /v3/mail/send</c> with <c>Authorization: Bearer {key}</c> and a JSON body checked against the published
/// contract (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send and its errors page,
/// https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors): 202 with an empty body and an
/// <c>X-Message-Id</c> header when accepted, 200 in sandbox mode, otherwise 400/401/413/415 with
/// <c>{"errors":[{"message","field","help"}]}</c>. <see cref="FailNext"/> makes it fail on purpose (500, 429, ...).
/// </summary>
public sealed class SendGridStandIn : IAsyncDisposable
{
    public const string InvalidKeyMessage = "The provided authorization grant is invalid, expired, or revoked";

    /// <summary>SendGrid's limit on a whole request, attachments included.</summary>
    public const int MaxRequestBytes = 30 * 1024 * 1024;

    private const string Help = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html";

    private readonly WebApplication app;
    private readonly string apiKey;
    private readonly Lock gate = new();
    private readonly List<SentEmail> sent = [];
    private int failuresLeft;
    private int failureStatus;
    private int requests;

    private SendGridStandIn(WebApplication app, string apiKey)
    {
        this.app = app;
        this.apiKey = apiKey;
    }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Every message accepted so far (not those refused, failed on purpose or sent in sandbox mode).</summary>
    public IReadOnlyList<SentEmail> Sent
    {
        get
        {
            lock (gate)
            {
                return [.. sent];
            }
        }
    }

    /// <summary>Every <c>POST /v3/mail/send</c> received, whatever the answer: shows how often a caller tried.</summary>
    public int RequestCount => Volatile.Read(ref requests);

    public static async Task<SendGridStandIn> StartAsync(string apiKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(apiKey);
        var builder = LoopbackServer.CreateBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = MaxRequestBytes + (1024 * 1024));
        var app = builder.Build();
        var standIn = new SendGridStandIn(app, apiKey);
        app.MapPost("/v3/mail/send", (Func<HttpContext, Task<IResult>>)standIn.MailSendAsync);
        app.MapFallback(() => Results.Json(Errors(new ApiError("resource not found", null)), statusCode: StatusCodes.Status404NotFound));
        await app.StartAsync();
        standIn.BaseAddress = LoopbackServer.AddressOf(app);
        return standIn;
    }

    /// <summary>Answers the next <paramref name="count"/> mail sends with <paramref name="status"/> and SendGrid's error body for it, before any other check.</summary>
    public void FailNext(int count, int status)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(status, 400);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(status, 599);
        lock (gate)
        {
            failuresLeft = count;
            failureStatus = status;
        }
    }

    public ValueTask DisposeAsync() => app.DisposeAsync();

    private async Task<IResult> MailSendAsync(HttpContext context)
    {
        Interlocked.Increment(ref requests);
        if (TakeFailure() is { } status)
        {
            return Failure(context, status);
        }

        if (!IsAuthorized(context.Request.Headers.Authorization.ToString()))
        {
            return Results.Json(Errors(new ApiError(InvalidKeyMessage, null)), statusCode: StatusCodes.Status401Unauthorized);
        }

        if (context.Request.ContentType is not { } contentType || !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return Results.Json(Errors(new ApiError("Content-Type should be application/json.", null)), statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        if (buffer.Length > MaxRequestBytes)
        {
            return Results.Json(
                Errors(new ApiError("The JSON payload you have included in your request is too large. Please limit your request to 30MB.", null)),
                statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        var json = System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            return Results.Json(Errors(new ApiError("Bad Request", null)), statusCode: StatusCodes.Status400BadRequest);
        }

        using (document)
        {
            var root = document.RootElement;
            var problems = root.ValueKind == JsonValueKind.Object ? Validate(root) : [new ApiError("Bad Request", null)];
            if (problems.Count > 0)
            {
                return Results.Json(Errors([.. problems]), statusCode: StatusCodes.Status400BadRequest);
            }

            if (root.TryGetProperty("mail_settings", out var settings)
                && settings.ValueKind == JsonValueKind.Object
                && settings.TryGetProperty("sandbox_mode", out var sandbox)
                && sandbox.ValueKind == JsonValueKind.Object
                && sandbox.TryGetProperty("enable", out var enable)
                && enable.ValueKind == JsonValueKind.True)
            {
                // Sandbox mode: valid, not sent, 200 instead of 202.
                return Results.Ok();
            }

            var messageId = NewMessageId();
            Record(root, json, messageId);
            context.Response.Headers["X-Message-Id"] = messageId;
            return Results.StatusCode(StatusCodes.Status202Accepted);
        }
    }

    private int? TakeFailure()
    {
        lock (gate)
        {
            if (failuresLeft == 0)
            {
                return null;
            }

            failuresLeft--;
            return failureStatus;
        }
    }

    private static IResult Failure(HttpContext context, int status)
    {
        if (status == StatusCodes.Status429TooManyRequests)
        {
            // SendGrid's rate-limit headers: the limit, what is left of it and when it resets (Unix seconds).
            context.Response.Headers["X-RateLimit-Limit"] = "600";
            context.Response.Headers["X-RateLimit-Remaining"] = "0";
            context.Response.Headers["X-RateLimit-Reset"] = DateTimeOffset.UtcNow.AddSeconds(60).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        }

        var message = status switch
        {
            StatusCodes.Status429TooManyRequests => "too many requests",
            >= 500 => "internal error",
            _ => ReasonPhrase(status),
        };
        return Results.Json(Errors(new ApiError(message, null)), statusCode: status);
    }

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "error";

    private bool IsAuthorized(string header)
    {
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.Ordinal) && string.Equals(header[scheme.Length..], apiKey, StringComparison.Ordinal);
    }

    /// <summary>The Mail Send request schema's rules, each refusal naming its field as SendGrid does (<c>personalizations.0.to.0.email</c>).</summary>
    internal static List<ApiError> Validate(JsonElement root)
    {
        var problems = new List<ApiError>();
        var hasTemplate = root.TryGetProperty("template_id", out var template) && template.ValueKind == JsonValueKind.String && template.GetString()!.Length > 0;

        var everyPersonalizationHasSubject = ValidatePersonalizations(root, problems);
        ValidateFrom(root, problems);

        var hasSubject = root.TryGetProperty("subject", out var subject) && subject.ValueKind == JsonValueKind.String && subject.GetString()!.Length > 0;
        if (!hasSubject && !hasTemplate && !everyPersonalizationHasSubject)
        {
            problems.Add(new ApiError(
                "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.",
                "subject"));
        }

        ValidateContent(root, hasTemplate, problems);
        ValidateAttachments(root, problems);
        ValidateCustomArgs(root, "custom_args", problems);
        return problems;
    }

    /// <summary>Answers whether every personalization carries its own subject.</summary>
    private static bool ValidatePersonalizations(JsonElement root, List<ApiError> problems)
    {
        if (!root.TryGetProperty("personalizations", out var personalizations)
            || personalizations.ValueKind != JsonValueKind.Array
            || personalizations.GetArrayLength() == 0)
        {
            problems.Add(new ApiError("The personalizations field is required and must have at least one personalization.", "personalizations"));
            return false;
        }

        if (personalizations.GetArrayLength() > 1000)
        {
            problems.Add(new ApiError("The personalization block is limited to 1000 personalizations per API request.", "personalizations"));
        }

        var everyHasSubject = true;
        var index = 0;
        foreach (var personalization in personalizations.EnumerateArray())
        {
            var at = $"personalizations.{index.ToString(CultureInfo.InvariantCulture)}";
            if (personalization.ValueKind != JsonValueKind.Object)
            {
                problems.Add(new ApiError("Each personalization must be an object.", at));
                everyHasSubject = false;
                index++;
                continue;
            }

            if (!personalization.TryGetProperty("to", out var to) || to.ValueKind != JsonValueKind.Array || to.GetArrayLength() == 0)
            {
                problems.Add(new ApiError(
                    "The to array is required for all personalization objects, and must have at least one email object with a valid email address.",
                    $"{at}.to"));
            }
            else
            {
                ValidateAddresses(to, $"{at}.to", problems);
            }

            foreach (var list in (string[])["cc", "bcc"])
            {
                if (personalization.TryGetProperty(list, out var addresses))
                {
                    ValidateAddresses(addresses, $"{at}.{list}", problems);
                }
            }

            everyHasSubject &= personalization.TryGetProperty("subject", out var subject) && subject.ValueKind == JsonValueKind.String && subject.GetString()!.Length > 0;
            ValidateCustomArgs(personalization, $"{at}.custom_args", problems);
            index++;
        }

        return everyHasSubject;
    }

    private static void ValidateAddresses(JsonElement addresses, string at, List<ApiError> problems)
    {
        if (addresses.ValueKind != JsonValueKind.Array)
        {
            problems.Add(new ApiError("Invalid type. Expected: array.", at));
            return;
        }

        var index = 0;
        foreach (var address in addresses.EnumerateArray())
        {
            if (!IsAddress(address))
            {
                problems.Add(new ApiError("Does not contain a valid address.", $"{at}.{index.ToString(CultureInfo.InvariantCulture)}.email"));
            }

            index++;
        }
    }

    private static void ValidateFrom(JsonElement root, List<ApiError> problems)
    {
        if (!root.TryGetProperty("from", out var from) || from.ValueKind != JsonValueKind.Object || !from.TryGetProperty("email", out _))
        {
            problems.Add(new ApiError(
                "The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.",
                "from.email"));
        }
        else if (!IsAddress(from))
        {
            problems.Add(new ApiError("The from email does not contain a valid address.", "from.email"));
        }
    }

    private static void ValidateContent(JsonElement root, bool hasTemplate, List<ApiError> problems)
    {
        if (!root.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Array || content.GetArrayLength() == 0)
        {
            if (!hasTemplate)
            {
                problems.Add(new ApiError(
                    "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.",
                    "content"));
            }

            return;
        }

        var types = new List<string>();
        var index = 0;
        foreach (var block in content.EnumerateArray())
        {
            var at = $"content.{index.ToString(CultureInfo.InvariantCulture)}";
            var type = block.ValueKind == JsonValueKind.Object && block.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
            if (type.Length == 0)
            {
                problems.Add(new ApiError("The content type must be a string at least one character in length.", $"{at}.type"));
            }
            else if (type.AsSpan().IndexOfAny(";\r\n") >= 0)
            {
                problems.Add(new ApiError("The content type cannot contain ';', or CRLF characters.", $"{at}.type"));
            }

            if (block.ValueKind != JsonValueKind.Object || !block.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.String || value.GetString()!.Length == 0)
            {
                problems.Add(new ApiError("The content value must be a string at least one character in length.", $"{at}.value"));
            }

            types.Add(type.ToLowerInvariant());
            index++;
        }

        // text/plain first, then text/html, then anything else.
        var plain = types.IndexOf("text/plain");
        var html = types.IndexOf("text/html");
        if ((plain > 0) || (html >= 0 && html != (plain >= 0 ? 1 : 0)))
        {
            problems.Add(new ApiError("If present, text/plain must be first, followed by text/html, followed by any other content.", "content"));
        }
    }

    private static void ValidateAttachments(JsonElement root, List<ApiError> problems)
    {
        if (!root.TryGetProperty("attachments", out var attachments))
        {
            return;
        }

        if (attachments.ValueKind != JsonValueKind.Array)
        {
            problems.Add(new ApiError("Invalid type. Expected: array.", "attachments"));
            return;
        }

        var index = 0;
        foreach (var attachment in attachments.EnumerateArray())
        {
            var at = $"attachments.{index.ToString(CultureInfo.InvariantCulture)}";
            index++;
            if (attachment.ValueKind != JsonValueKind.Object)
            {
                problems.Add(new ApiError("Each attachment must be an object.", at));
                continue;
            }

            if (!attachment.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String || content.GetString()!.Length == 0)
            {
                problems.Add(new ApiError("The attachment content is required.", $"{at}.content"));
            }
            else if (Decode(content.GetString()!) is null)
            {
                problems.Add(new ApiError("The attachment content must be base64 encoded.", $"{at}.content"));
            }

            if (!attachment.TryGetProperty("filename", out var filename) || filename.ValueKind != JsonValueKind.String || filename.GetString()!.Length == 0)
            {
                problems.Add(new ApiError("The attachment filename parameter is required.", $"{at}.filename"));
            }

            if (attachment.TryGetProperty("type", out var type) && (type.ValueKind != JsonValueKind.String || type.GetString()!.AsSpan().IndexOfAny(";\r\n") >= 0))
            {
                problems.Add(new ApiError("The attachment type cannot contain ';', or CRLF characters.", $"{at}.type"));
            }

            if (attachment.TryGetProperty("disposition", out var disposition))
            {
                var value = disposition.ValueKind == JsonValueKind.String ? disposition.GetString() : null;
                var hasContentId = attachment.TryGetProperty("content_id", out var id) && id.ValueKind == JsonValueKind.String && id.GetString()!.Length > 0;
                if (value is not ("inline" or "attachment") || (value == "inline" && !hasContentId))
                {
                    problems.Add(new ApiError("The disposition of your attachment can be either 'inline' or 'attachment'. 'inline' requires a content_id.", $"{at}.disposition"));
                }
            }
        }
    }

    private static void ValidateCustomArgs(JsonElement owner, string at, List<ApiError> problems)
    {
        if (!owner.TryGetProperty("custom_args", out var args))
        {
            return;
        }

        if (args.ValueKind != JsonValueKind.Object)
        {
            problems.Add(new ApiError("Invalid type. Expected: object.", at));
            return;
        }

        foreach (var arg in args.EnumerateObject())
        {
            if (arg.Value.ValueKind != JsonValueKind.String)
            {
                problems.Add(new ApiError($"Invalid type. Expected: string, given: {arg.Value.ValueKind.ToString().ToLowerInvariant()}.", $"{at}.{arg.Name}"));
            }
        }
    }

    private static bool IsAddress(JsonElement address) =>
        address.ValueKind == JsonValueKind.Object
        && address.TryGetProperty("email", out var email)
        && email.ValueKind == JsonValueKind.String
        && MailAddress.TryCreate(email.GetString(), out var parsed)
        && parsed.DisplayName.Length == 0
        && string.Equals(parsed.Address, email.GetString(), StringComparison.Ordinal);

    private static byte[]? Decode(string base64)
    {
        var bytes = new byte[base64.Length];
        return Convert.TryFromBase64String(base64, bytes, out var written) ? bytes[..written] : null;
    }

    private void Record(JsonElement root, string json, string messageId)
    {
        var from = Address(root.GetProperty("from"));
        var content = root.TryGetProperty("content", out var blocks) ? blocks.EnumerateArray().ToList() : [];
        var text = content.FirstOrDefault(b => b.GetProperty("type").GetString() == "text/plain") is { ValueKind: JsonValueKind.Object } plain ? plain.GetProperty("value").GetString() : null;
        var html = content.FirstOrDefault(b => b.GetProperty("type").GetString() == "text/html") is { ValueKind: JsonValueKind.Object } markup ? markup.GetProperty("value").GetString() : null;
        var attachments = root.TryGetProperty("attachments", out var list)
            ? list.EnumerateArray().Select(a => new SentAttachment(
                a.GetProperty("filename").GetString()!,
                Optional(a, "type"),
                Optional(a, "disposition"),
                Optional(a, "content_id"),
                Decode(a.GetProperty("content").GetString()!)!)).ToList()
            : [];
        var subject = Optional(root, "subject");
        var args = CustomArgs(root);

        var messages = root.GetProperty("personalizations").EnumerateArray().Select(p =>
        {
            var merged = new Dictionary<string, string>(args, StringComparer.Ordinal);
            foreach (var (key, value) in CustomArgs(p))
            {
                merged[key] = value;
            }

            return new SentEmail(
                messageId,
                [.. p.GetProperty("to").EnumerateArray().Select(Address)],
                from,
                Optional(p, "subject") ?? subject,
                text,
                html,
                attachments,
                merged,
                json);
        }).ToList();

        lock (gate)
        {
            sent.AddRange(messages);
        }
    }

    private static SentAddress Address(JsonElement address) => new(address.GetProperty("email").GetString()!, Optional(address, "name"));

    private static string? Optional(JsonElement owner, string name) =>
        owner.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static Dictionary<string, string> CustomArgs(JsonElement owner) =>
        owner.TryGetProperty("custom_args", out var args)
            ? args.EnumerateObject().ToDictionary(a => a.Name, a => a.Value.GetString()!, StringComparer.Ordinal)
            : [];

    /// <summary>Like SendGrid's: 22 URL-safe base64 characters.</summary>
    private static string NewMessageId() =>
        Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static object Errors(params ApiError[] errors) =>
        new { errors = errors.Select(e => new { message = e.Message, field = e.Field, help = e.Field is null ? null : Help }) };

    internal sealed record ApiError(string Message, string? Field);
}
