using System.Globalization;
using DecentCloud.Shared.Signing;
using Microsoft.Extensions.Time.Testing;

namespace DecentCloud.Tests.Signing;

public sealed class SigningVectorTests
{
    private static readonly SigningVectors Vectors = SigningVectors.All;

    [Fact]
    public void The_vector_file_has_cases_including_one_with_a_query_string()
    {
        Assert.True(Vectors.Cases.Count >= 3, $"{SigningVectors.FilePath} has {Vectors.Cases.Count} cases.");
        Assert.Contains(Vectors.Cases, vector => vector.Path.Contains('?', StringComparison.Ordinal));
        Assert.Contains(Vectors.Cases, vector => vector.Body.Length > 0);
    }

    [Fact]
    public void The_test_seed_gives_the_vectors_public_key()
    {
        Assert.Equal(Vectors.PublicKeyHex, Vectors.Key.PublicKeyHex);
    }

    [Theory]
    [MemberData(nameof(SigningVectors.Indexes), MemberType = typeof(SigningVectors))]
    public void Signing_a_vector_reproduces_its_signature_exactly(int index)
    {
        var vector = Vectors.Cases[index];

        var signature = RequestSigner.Sign(Vectors.Key, vector.Timestamp, vector.Nonce, vector.Method, vector.Path, vector.BodyBytes);

        Assert.Equal(vector.SignatureHex, signature);
    }

    [Theory]
    [MemberData(nameof(SigningVectors.Indexes), MemberType = typeof(SigningVectors))]
    public void A_vector_verifies_with_its_public_key(int index)
    {
        var vector = Vectors.Cases[index];

        Assert.True(RequestSigner.Verify(
            Vectors.PublicKeyHex, vector.SignatureHex, vector.Timestamp, vector.Nonce, vector.Method, vector.Path, vector.BodyBytes));
    }

    [Theory]
    [MemberData(nameof(SigningVectors.Indexes), MemberType = typeof(SigningVectors))]
    public void A_vector_passes_the_verifier_at_its_own_time_and_exposes_nonce_and_timestamp(int index)
    {
        var vector = Vectors.Cases[index];
        var verifier = new RequestVerifier(new FakeTimeProvider(vector.Time));

        var result = verifier.Verify(vector.Method, vector.Path, vector.Headers(Vectors.PublicKeyHex), vector.BodyBytes);

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(Vectors.PublicKeyHex, result.Request.PublicKeyHex);
        Assert.Equal(Guid.Parse(vector.Nonce), result.Request.Nonce);
        Assert.Equal(vector.Timestamp, result.Request.TimestampNanoseconds.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(vector.Time + RequestVerifier.Window, result.Request.AcceptedUntil);
    }
}
