using System.Net;

namespace DecentCloud.Functions.Billing.Receipts;

/// <summary>
/// SendGrid did not accept a receipt: it answered with an error (<see cref="StatusCode"/> and SendGrid's own
/// <see cref="Errors"/>), or it could not be reached (no status code; the cause is the inner exception).
/// The message names the payment and never holds the API key or the recipient's address in full.
/// </summary>
public sealed class EmailSendException : Exception
{
    public EmailSendException()
        : this("sending a receipt failed")
    {
    }

    public EmailSendException(string message)
        : this(message, null)
    {
    }

    public EmailSendException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Errors = [];
    }

    public EmailSendException(string paymentKey, HttpStatusCode? statusCode, IReadOnlyList<string> errors, Exception? innerException)
        : base(Describe(paymentKey, statusCode, errors, innerException), innerException)
    {
        PaymentKey = paymentKey;
        StatusCode = statusCode;
        Errors = errors;
    }

    /// <summary>The payment whose receipt was being sent.</summary>
    public string? PaymentKey { get; }

    /// <summary>SendGrid's answer; null when no answer came (connection refused, timeout).</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>SendGrid's error messages from <c>{"errors":[{"message","field"}]}</c>, as <c>message (field)</c>.</summary>
    public IReadOnlyList<string> Errors { get; }

    /// <summary>
    /// Whether sending again later may succeed: no answer, 408, 429 or a 5xx. 400, 401, 403 and 413 fail the same way
    /// until the message or the settings change.
    /// </summary>
    public bool IsTransient => StatusCode is null or HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or >= HttpStatusCode.InternalServerError;

    private static string Describe(string paymentKey, HttpStatusCode? statusCode, IReadOnlyList<string> errors, Exception? inner)
    {
        var what = $"sending the receipt for payment {paymentKey}";
        if (statusCode is not { } status)
        {
            return $"{what}: SendGrid could not be reached ({inner?.GetType().Name ?? "no answer"})";
        }

        var answer = $"{what}: SendGrid answered {(int)status} {status}";
        return errors.Count == 0 ? answer : $"{answer}: {string.Join("; ", errors)}";
    }
}
