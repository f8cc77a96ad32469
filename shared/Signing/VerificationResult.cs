using System.Diagnostics.CodeAnalysis;

namespace DecentCloud.Shared.Signing;

public enum VerificationOutcome
{
    Valid,

    /// <summary>A signing header is absent or empty; <see cref="VerificationResult.Header"/> names it.</summary>
    MissingHeader,

    /// <summary>Bad hex, wrong length, not a curve point, not a decimal timestamp, not a UUID; <see cref="VerificationResult.Header"/> names the header.</summary>
    MalformedHeader,

    /// <summary>Well-formed, but not an Ed25519ph/decent-cloud signature of this request by this key.</summary>
    BadSignature,

    /// <summary>X-Timestamp is older than the window allows.</summary>
    StaleTimestamp,

    /// <summary>X-Timestamp is further ahead of the server's clock than the window allows.</summary>
    FutureTimestamp,
}

/// <summary>
/// What <see cref="RequestVerifier"/> found. <see cref="Detail"/> is one sentence fit for a problem-details response;
/// it never repeats a header's value.
/// </summary>
public sealed class VerificationResult
{
    private VerificationResult(VerificationOutcome outcome, string? header, string detail, VerifiedRequest? request)
    {
        Outcome = outcome;
        Header = header;
        Detail = detail;
        Request = request;
    }

    public VerificationOutcome Outcome { get; }

    /// <summary>The header at fault; null when the request is valid.</summary>
    public string? Header { get; }

    public string Detail { get; }

    /// <summary>Who signed, and the nonce and timestamp to check against replays; only for a valid request.</summary>
    public VerifiedRequest? Request { get; }

    [MemberNotNullWhen(true, nameof(Request))]
    public bool IsValid => Outcome == VerificationOutcome.Valid;

    internal static VerificationResult Valid(VerifiedRequest request) =>
        new(VerificationOutcome.Valid, null, "The signature is valid.", request);

    internal static VerificationResult Failed(VerificationOutcome outcome, string header, string detail) =>
        new(outcome, header, detail, null);

    public override string ToString() => IsValid ? $"{Outcome} ({Request.PublicKeyHex})" : $"{Outcome} {Header}: {Detail}";
}

/// <summary>A request whose signature and timestamp checked out.</summary>
/// <param name="PublicKeyHex">The signer's key, lower-case hex: the caller's identity.</param>
/// <param name="AcceptedUntil">
/// The last moment this timestamp is still inside the window. A nonce store must keep the nonce until then: a request
/// stamped up to the window ahead of the server's clock stays acceptable that much longer.
/// </param>
public sealed record VerifiedRequest(string PublicKeyHex, Guid Nonce, long TimestampNanoseconds, DateTimeOffset AcceptedUntil)
{
    public DateTimeOffset Timestamp => UnixNanoseconds.ToDateTimeOffset(TimestampNanoseconds);
}
