using System.Text.Json;
using Microsoft.Extensions.Options;
using SendGrid;
using SendGrid.Helpers.Mail;

namespace DecentCloud.Functions.Billing.Receipts;

/// <summary>
/// Sends a receipt through SendGrid's v3 Mail Send API (<c>POST {SENDGRID_API_HOST}/v3/mail/send</c>). One attempt per
/// call: the queue function that calls it gets the host's queue retries and poison queue by letting
/// <see cref="EmailSendException"/> through.
/// </summary>
public sealed partial class ReceiptMailer(IHttpClientFactory httpClients, IOptions<EmailOptions> options, ILogger<ReceiptMailer> logger)
{
    public const string HttpClientName = "SendGrid";

    /// <summary>The custom arg that carries <see cref="ReceiptEmail.PaymentKey"/>; SendGrid echoes it in its event webhook and activity feed.</summary>
    public const string PaymentKeyArg = "payment_key";

    private const int MaxUnparsedBodyChars = 300;

    /// <summary>Sends the receipt; answers SendGrid's <c>X-Message-Id</c> (null if it sent none).</summary>
    /// <exception cref="EmailSendException">SendGrid answered other than 2xx, or could not be reached.</exception>
    public async Task<string?> SendAsync(ReceiptEmail email, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(email);
        var settings = options.Value;
        var client = new SendGridClient(httpClients.CreateClient(HttpClientName), new SendGridClientOptions
        {
            ApiKey = settings.ApiKey,
            Host = settings.ApiHost,
            // Errors are read below, keeping the status and every message; the client's own exceptions keep only the first.
            HttpErrorAsException = false,
        });

        Response response;
        try
        {
            response = await client.SendEmailAsync(Compose(email, settings), cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // A cancelled token is the host stopping and passes through; a cancellation without it is the client's timeout.
            LogUnreachable(logger, ex, email.PaymentKey);
            throw new EmailSendException(email.PaymentKey, null, [], ex);
        }

        using var body = response.Body;
        if (response.IsSuccessStatusCode)
        {
            var messageId = response.Headers.TryGetValues("X-Message-Id", out var values) ? values.FirstOrDefault() : null;
            LogSent(logger, email.PaymentKey, messageId, email.AttachmentPdf.Length);
            return messageId;
        }

        var errors = await ReadErrorsAsync(body, settings.ApiKey, email.To, cancellationToken);
        LogRefused(logger, email.PaymentKey, (int)response.StatusCode, string.Join("; ", errors));
        throw new EmailSendException(email.PaymentKey, response.StatusCode, errors, null);
    }

    private static SendGridMessage Compose(ReceiptEmail email, EmailOptions settings)
    {
        var message = new SendGridMessage
        {
            From = new EmailAddress(settings.From, string.IsNullOrWhiteSpace(settings.FromName) ? null : settings.FromName),
            Subject = email.Subject,
            PlainTextContent = email.PlainText,
            HtmlContent = email.Html,
            CustomArgs = new Dictionary<string, string> { [PaymentKeyArg] = email.PaymentKey },
        };
        message.AddTo(new EmailAddress(email.To, email.ToName));
        message.AddAttachment(email.AttachmentFileName, Convert.ToBase64String(email.AttachmentPdf), "application/pdf", "attachment");
        return message;
    }

    /// <summary>SendGrid's <c>{"errors":[{"message","field","help"}]}</c> as <c>message (field)</c>, with the key and the recipient's address masked.</summary>
    private static async Task<IReadOnlyList<string>> ReadErrorsAsync(HttpContent? body, string apiKey, string to, CancellationToken cancellationToken)
    {
        var text = body is null ? "" : await body.ReadAsStringAsync(cancellationToken);
        var errors = new List<string>();
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("errors", out var list)
                && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var error in list.EnumerateArray())
                {
                    var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                    var field = error.TryGetProperty("field", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
                    errors.Add(field is null ? message ?? "(no message)" : $"{message ?? "(no message)"} ({field})");
                }
            }
        }
        catch (JsonException)
        {
            // Not SendGrid's JSON (a proxy's HTML page, say): the start of it is kept below.
        }

        if (errors.Count == 0 && !string.IsNullOrWhiteSpace(text))
        {
            errors.Add(text.Length <= MaxUnparsedBodyChars ? text.Trim() : $"{text[..MaxUnparsedBodyChars].Trim()}…");
        }

        return errors.Select(error => Scrub(error, apiKey, to)).ToList();
    }

    private static string Scrub(string text, string apiKey, string to)
    {
        if (apiKey.Length > 0)
        {
            text = text.Replace(apiKey, "[SENDGRID_API_KEY]", StringComparison.Ordinal);
        }

        return text.Replace(to, Mask(to), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary><c>jane.doe@example.com</c> as <c>j***@example.com</c>: enough to tell addresses apart, not enough to mail one.</summary>
    internal static string Mask(string address)
    {
        var at = address.LastIndexOf('@');
        return at <= 0 ? "***" : $"{address[0]}***{address[at..]}";
    }

    [LoggerMessage(EventId = 8400, Level = LogLevel.Information, Message = "Receipt for payment {PaymentKey} accepted by SendGrid as message {MessageId} ({AttachmentBytes} bytes of PDF attached)")]
    private static partial void LogSent(ILogger logger, string paymentKey, string? messageId, int attachmentBytes);

    [LoggerMessage(EventId = 8401, Level = LogLevel.Warning, Message = "SendGrid refused the receipt for payment {PaymentKey} with {StatusCode}: {Errors}")]
    private static partial void LogRefused(ILogger logger, string paymentKey, int statusCode, string errors);

    [LoggerMessage(EventId = 8402, Level = LogLevel.Warning, Message = "SendGrid could not be reached with the receipt for payment {PaymentKey}")]
    private static partial void LogUnreachable(ILogger logger, Exception exception, string paymentKey);
}
