namespace DecentCloud.Functions.Chatwoot.Api;

/// <summary>
/// A Chatwoot call that did not do what was asked: Chatwoot refused it, failed, was not reached in time, or answered
/// something that cannot be read. The message names the operation and Chatwoot's own words, never a token.
/// </summary>
/// <remarks>
/// The client does not retry; <see cref="IsRetryable"/> tells the caller (the onboarding's retry policy) whether trying the same call again
/// later can succeed (429 without Retry-After, 408, 5xx, time-outs, connection failures) or whether something has to
/// change first (401 token or role, 402 plan limit, 404, 422 validation, other 4xx, an answer that cannot be read).
/// </remarks>
public sealed class ChatwootException : Exception
{
    public ChatwootException()
        : this("a Chatwoot call failed")
    {
    }

    public ChatwootException(string message)
        : this(message, null)
    {
    }

    public ChatwootException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Operation = message;
        Attributes = [];
    }

    /// <param name="operation">What was being done, e.g. "creating team 'acme team'".</param>
    /// <param name="status">The HTTP status, or null when no answer came.</param>
    /// <param name="error">Chatwoot's error text (<c>error</c>, or <c>message</c> of a 422), or what failed on the way.</param>
    /// <param name="attributes">The fields a 422 names (<c>attributes</c>, or the keys of an <c>error</c> object).</param>
    public ChatwootException(string operation, int? status, string? error, IReadOnlyList<string> attributes, bool isRetryable, Exception? innerException)
        : base(Describe(operation, status, error), innerException)
    {
        Operation = operation;
        Status = status;
        Error = error;
        Attributes = attributes;
        IsRetryable = isRetryable;
    }

    public string Operation { get; }

    public int? Status { get; }

    public string? Error { get; }

    public IReadOnlyList<string> Attributes { get; }

    public bool IsRetryable { get; }

    /// <summary>
    /// True for a 422 saying <paramref name="attribute"/> "has already been taken" (a team name, a portal slug):
    /// Rails names the field in <c>attributes</c> and words it humanized in the message ("Slug has already been taken").
    /// </summary>
    public bool IsTaken(string attribute)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(attribute);
        if (Status != 422 || Error is null || !Attributes.Contains(attribute, StringComparer.OrdinalIgnoreCase))
        {
            return false;
        }

        var humanized = attribute.Replace('_', ' ');
        return Error.Contains($"{humanized} has already been taken", StringComparison.OrdinalIgnoreCase);
    }

    private static string Describe(string operation, int? status, string? error) =>
        (status, error) switch
        {
            (null, null) => $"{operation}: Chatwoot gave no answer",
            (null, _) => $"{operation}: {error}",
            (_, null) => $"{operation}: Chatwoot answered HTTP {status}",
            _ => $"{operation}: Chatwoot answered HTTP {status}: {error}",
        };
}
