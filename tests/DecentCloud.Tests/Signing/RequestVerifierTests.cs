using System.Text;
using DecentCloud.Shared.Signing;
using Microsoft.Extensions.Time.Testing;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace DecentCloud.Tests.Signing;

public sealed class RequestVerifierTests
{
    private static readonly SigningVectors Vectors = SigningVectors.All;

    // The POST case: it has a body, so every part of the message can be changed.
    private static readonly SigningVector Post = Vectors.Cases.Single(vector => vector.Method == "POST");

    private static readonly SigningVector WithQuery = Vectors.Cases.Single(vector => vector.Path.Contains('?', StringComparison.Ordinal));

    public static TheoryData<string, string, string, string, string, string> ChangedRequests => new()
    {
        { "a changed body", Post.Timestamp, Post.Nonce, Post.Method, Post.Path, Post.Body.Replace("24", "25", StringComparison.Ordinal) },
        { "an empty body", Post.Timestamp, Post.Nonce, Post.Method, Post.Path, "" },
        { "a changed method", Post.Timestamp, Post.Nonce, "PUT", Post.Path, Post.Body },
        { "a changed path", Post.Timestamp, Post.Nonce, Post.Method, "/api/v1/contracts/other", Post.Body },
        { "an added query", Post.Timestamp, Post.Nonce, Post.Method, Post.Path + "?dryRun=true", Post.Body },
        { "a changed timestamp", "1700000000000000001", Post.Nonce, Post.Method, Post.Path, Post.Body },
        { "a changed nonce", Post.Timestamp, "11111111-1111-4111-8111-111111111112", Post.Method, Post.Path, Post.Body },
    };

    [Theory]
    [MemberData(nameof(ChangedRequests))]
    public void A_signature_does_not_verify_for_a_request_with(string change, string timestamp, string nonce, string method, string path, string body)
    {
        var verifier = new RequestVerifier(new FakeTimeProvider(Post.Time));
        var headers = new SignatureHeaders(Vectors.PublicKeyHex, Post.SignatureHex, timestamp, nonce);

        var result = verifier.Verify(method, path, headers, Encoding.UTF8.GetBytes(body));

        Assert.True(result.Outcome == VerificationOutcome.BadSignature, $"{change}: {result}");
        Assert.Equal(SignatureHeaders.SignatureHeader, result.Header);
        Assert.Null(result.Request);
    }

    [Theory]
    [InlineData("/api/v1/offerings?country=DE&page=3")]
    [InlineData("/api/v1/offerings?page=2&country=DE")]
    [InlineData("/api/v1/offerings")]
    [InlineData("/api/v1/offerings?country=DE&page=2&admin=1")]
    public void A_signature_over_a_query_string_does_not_verify_for_another_query(string path)
    {
        var verifier = new RequestVerifier(new FakeTimeProvider(WithQuery.Time));

        var result = verifier.Verify(WithQuery.Method, path, WithQuery.Headers(Vectors.PublicKeyHex), WithQuery.BodyBytes);

        Assert.Equal(VerificationOutcome.BadSignature, result.Outcome);
    }

    [Fact]
    public void A_plain_ed25519_signature_of_the_same_message_does_not_verify()
    {
        var message = RequestSigner.BuildMessage(Post.Timestamp, Post.Nonce, Post.Method, Post.Path, Post.BodyBytes);
        var plain = new Ed25519Signer();
        plain.Init(forSigning: true, new Ed25519PrivateKeyParameters(Convert.FromHexString(Vectors.SecretKeyHex)));
        plain.BlockUpdate(message);
        var plainSignature = Convert.ToHexStringLower(plain.GenerateSignature());
        var verifier = new RequestVerifier(new FakeTimeProvider(Post.Time));

        var result = verifier.Verify(Post.Method, Post.Path, Post.Headers(Vectors.PublicKeyHex) with { Signature = plainSignature }, Post.BodyBytes);

        Assert.Equal(VerificationOutcome.BadSignature, result.Outcome);
    }

    [Fact]
    public void An_ed25519ph_signature_without_the_decent_cloud_context_does_not_verify()
    {
        var message = RequestSigner.BuildMessage(Post.Timestamp, Post.Nonce, Post.Method, Post.Path, Post.BodyBytes);
        var noContext = new Ed25519phSigner([]);
        noContext.Init(forSigning: true, new Ed25519PrivateKeyParameters(Convert.FromHexString(Vectors.SecretKeyHex)));
        noContext.BlockUpdate(message);
        var signature = Convert.ToHexStringLower(noContext.GenerateSignature());
        var verifier = new RequestVerifier(new FakeTimeProvider(Post.Time));

        var result = verifier.Verify(Post.Method, Post.Path, Post.Headers(Vectors.PublicKeyHex) with { Signature = signature }, Post.BodyBytes);

        Assert.Equal(VerificationOutcome.BadSignature, result.Outcome);
    }

    [Fact]
    public void A_signature_checked_against_another_public_key_does_not_verify()
    {
        var other = Ed25519phKey.Generate();
        var verifier = new RequestVerifier(new FakeTimeProvider(Post.Time));

        var result = verifier.Verify(Post.Method, Post.Path, Post.Headers(other.PublicKeyHex), Post.BodyBytes);

        Assert.Equal(VerificationOutcome.BadSignature, result.Outcome);
    }

    [Fact]
    public void A_timestamp_just_over_five_minutes_old_is_refused_as_stale()
    {
        var clock = new FakeTimeProvider(Post.Time + TimeSpan.FromMinutes(5) + TimeSpan.FromTicks(1));

        var result = new RequestVerifier(clock).Verify(Post.Method, Post.Path, Post.Headers(Vectors.PublicKeyHex), Post.BodyBytes);

        Assert.Equal(VerificationOutcome.StaleTimestamp, result.Outcome);
        Assert.Equal(SignatureHeaders.TimestampHeader, result.Header);
    }

    [Fact]
    public void A_timestamp_an_hour_old_is_refused_as_stale_even_with_a_valid_signature()
    {
        var clock = new FakeTimeProvider(Post.Time + TimeSpan.FromHours(1));

        var result = new RequestVerifier(clock).Verify(Post.Method, Post.Path, Post.Headers(Vectors.PublicKeyHex), Post.BodyBytes);

        Assert.Equal(VerificationOutcome.StaleTimestamp, result.Outcome);
    }

    [Fact]
    public void A_timestamp_just_over_five_minutes_ahead_is_refused_as_future()
    {
        var clock = new FakeTimeProvider(Post.Time - TimeSpan.FromMinutes(5) - TimeSpan.FromTicks(1));

        var result = new RequestVerifier(clock).Verify(Post.Method, Post.Path, Post.Headers(Vectors.PublicKeyHex), Post.BodyBytes);

        Assert.Equal(VerificationOutcome.FutureTimestamp, result.Outcome);
        Assert.Equal(SignatureHeaders.TimestampHeader, result.Header);
    }

    [Theory]
    [InlineData(-5)]
    [InlineData(-1)]
    [InlineData(1)]
    [InlineData(5)]
    public void A_timestamp_within_five_minutes_either_side_is_accepted(int minutes)
    {
        var clock = new FakeTimeProvider(Post.Time + TimeSpan.FromMinutes(minutes));

        var result = new RequestVerifier(clock).Verify(Post.Method, Post.Path, Post.Headers(Vectors.PublicKeyHex), Post.BodyBytes);

        Assert.True(result.IsValid, result.ToString());
    }

    [Fact]
    public void A_valid_request_tells_how_long_its_nonce_must_be_remembered()
    {
        // Stamped five minutes ahead of the server: acceptable until ten minutes from the server's now.
        var now = Post.Time - TimeSpan.FromMinutes(5);

        var result = new RequestVerifier(new FakeTimeProvider(now)).Verify(Post.Method, Post.Path, Post.Headers(Vectors.PublicKeyHex), Post.BodyBytes);

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(now + TimeSpan.FromMinutes(10), result.Request.AcceptedUntil);
        Assert.Equal(Post.Time, result.Request.Timestamp);
    }

    [Theory]
    [InlineData(SignatureHeaders.PublicKeyHeader)]
    [InlineData(SignatureHeaders.SignatureHeader)]
    [InlineData(SignatureHeaders.TimestampHeader)]
    [InlineData(SignatureHeaders.NonceHeader)]
    public void A_request_without_a_signing_header_is_refused_naming_that_header(string missing)
    {
        var sent = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            [SignatureHeaders.PublicKeyHeader] = Vectors.PublicKeyHex,
            [SignatureHeaders.SignatureHeader] = Post.SignatureHex,
            [SignatureHeaders.TimestampHeader] = Post.Timestamp,
            [SignatureHeaders.NonceHeader] = Post.Nonce,
        };
        sent.Remove(missing);
        var headers = SignatureHeaders.From(name => sent.GetValueOrDefault(name));

        var result = new RequestVerifier(new FakeTimeProvider(Post.Time)).Verify(Post.Method, Post.Path, headers, Post.BodyBytes);

        Assert.Equal(VerificationOutcome.MissingHeader, result.Outcome);
        Assert.Equal(missing, result.Header);
        Assert.Contains(missing, result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_signing_header_counts_as_missing()
    {
        var headers = Post.Headers(Vectors.PublicKeyHex) with { Nonce = "" };

        var result = new RequestVerifier(new FakeTimeProvider(Post.Time)).Verify(Post.Method, Post.Path, headers, Post.BodyBytes);

        Assert.Equal(VerificationOutcome.MissingHeader, result.Outcome);
        Assert.Equal(SignatureHeaders.NonceHeader, result.Header);
    }

    public static TheoryData<string, string, string, string, string> MalformedHeaders => new()
    {
        { SignatureHeaders.PublicKeyHeader, "zz" + Vectors.PublicKeyHex[2..], Post.SignatureHex, Post.Timestamp, Post.Nonce },
        { SignatureHeaders.PublicKeyHeader, Vectors.PublicKeyHex[2..], Post.SignatureHex, Post.Timestamp, Post.Nonce },
        { SignatureHeaders.PublicKeyHeader, Vectors.PublicKeyHex + "00", Post.SignatureHex, Post.Timestamp, Post.Nonce },
        { SignatureHeaders.PublicKeyHeader, "0x" + Vectors.PublicKeyHex[2..], Post.SignatureHex, Post.Timestamp, Post.Nonce },
        { SignatureHeaders.PublicKeyHeader, new string('f', 64), Post.SignatureHex, Post.Timestamp, Post.Nonce },
        { SignatureHeaders.SignatureHeader, Vectors.PublicKeyHex, Post.SignatureHex[..^2], Post.Timestamp, Post.Nonce },
        { SignatureHeaders.SignatureHeader, Vectors.PublicKeyHex, Post.SignatureHex[..^1] + "g", Post.Timestamp, Post.Nonce },
        { SignatureHeaders.SignatureHeader, Vectors.PublicKeyHex, Convert.ToBase64String(Convert.FromHexString(Post.SignatureHex)), Post.Timestamp, Post.Nonce },
        { SignatureHeaders.TimestampHeader, Vectors.PublicKeyHex, Post.SignatureHex, "-1700000000000000000", Post.Nonce },
        { SignatureHeaders.TimestampHeader, Vectors.PublicKeyHex, Post.SignatureHex, " 1700000000000000000", Post.Nonce },
        { SignatureHeaders.TimestampHeader, Vectors.PublicKeyHex, Post.SignatureHex, "1.7e18", Post.Nonce },
        { SignatureHeaders.TimestampHeader, Vectors.PublicKeyHex, Post.SignatureHex, "99999999999999999999", Post.Nonce },
        { SignatureHeaders.NonceHeader, Vectors.PublicKeyHex, Post.SignatureHex, Post.Timestamp, "not-a-uuid" },
        { SignatureHeaders.NonceHeader, Vectors.PublicKeyHex, Post.SignatureHex, Post.Timestamp, Post.Nonce.Replace("-", "", StringComparison.Ordinal) },
        { SignatureHeaders.NonceHeader, Vectors.PublicKeyHex, Post.SignatureHex, Post.Timestamp, $"{Post.Nonce},{Post.Nonce}" },
    };

    [Theory]
    [MemberData(nameof(MalformedHeaders))]
    public void A_malformed_signing_header_is_refused_naming_that_header(string header, string publicKey, string signature, string timestamp, string nonce)
    {
        var result = new RequestVerifier(new FakeTimeProvider(Post.Time))
            .Verify(Post.Method, Post.Path, new SignatureHeaders(publicKey, signature, timestamp, nonce), Post.BodyBytes);

        Assert.Equal(VerificationOutcome.MalformedHeader, result.Outcome);
        Assert.Equal(header, result.Header);
        Assert.Null(result.Request);
    }

    [Fact]
    public void Upper_case_hex_verifies_and_the_identity_is_the_lower_case_key()
    {
        var headers = Post.Headers(Vectors.PublicKeyHex.ToUpperInvariant()) with { Signature = Post.SignatureHex.ToUpperInvariant() };

        var result = new RequestVerifier(new FakeTimeProvider(Post.Time)).Verify(Post.Method, Post.Path, headers, Post.BodyBytes);

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(Vectors.PublicKeyHex, result.Request.PublicKeyHex);
    }
}
