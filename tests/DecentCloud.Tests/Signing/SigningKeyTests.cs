using DecentCloud.Shared.Signing;

namespace DecentCloud.Tests.Signing;

public sealed class SigningKeyTests
{
    private static readonly SigningVectors Vectors = SigningVectors.All;

    [Fact]
    public void A_seed_in_upper_case_hex_is_the_same_key()
    {
        var key = Ed25519phKey.FromSeedHex(Vectors.SecretKeyHex.ToUpperInvariant());

        Assert.Equal(Vectors.PublicKeyHex, key.PublicKeyHex);
    }

    [Theory]
    [InlineData("0102", "64 hex characters (32 bytes); got 4 characters")]
    [InlineData("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021", "64 hex characters (32 bytes); got 66 characters")]
    [InlineData("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1fzz", "not hex: character 62")]
    [InlineData("", "is empty")]
    public void A_malformed_seed_is_refused_with_what_is_wrong(string seedHex, string expected)
    {
        var error = Assert.Throws<FormatException>(() => Ed25519phKey.FromSeedHex(seedHex));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_seed_of_the_wrong_byte_length_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => Ed25519phKey.FromSeed(new byte[31]));

        Assert.Contains("32 bytes; got 31", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_generated_key_survives_export_and_import_of_its_seed()
    {
        var key = Ed25519phKey.Generate();

        var again = Ed25519phKey.FromSeedHex(key.ExportSeedHex());

        Assert.Equal(key.PublicKeyHex, again.PublicKeyHex);
        Assert.NotEqual(key.PublicKeyHex, Ed25519phKey.Generate().PublicKeyHex);
    }

    [Fact]
    public void A_key_printed_shows_its_public_half_and_never_its_seed()
    {
        var text = Vectors.Key.ToString();

        Assert.Contains(Vectors.PublicKeyHex, text, StringComparison.Ordinal);
        Assert.DoesNotContain(Vectors.SecretKeyHex, text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Verifying_with_a_malformed_signature_throws_a_format_error_rather_than_answering_false()
    {
        var vector = Vectors.Cases[0];

        var error = Assert.Throws<FormatException>(() => RequestSigner.Verify(
            Vectors.PublicKeyHex, vector.SignatureHex[..10], vector.Timestamp, vector.Nonce, vector.Method, vector.Path, vector.BodyBytes));

        Assert.Contains("128 hex characters (64 bytes)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verifying_with_a_public_key_off_the_curve_throws_a_format_error()
    {
        var vector = Vectors.Cases[0];

        var error = Assert.Throws<FormatException>(() => RequestSigner.Verify(
            new string('f', 64), vector.SignatureHex, vector.Timestamp, vector.Nonce, vector.Method, vector.Path, vector.BodyBytes));

        Assert.Contains("not an Ed25519 public key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_method_is_signed_in_upper_case_whatever_case_it_is_given_in()
    {
        var vector = Vectors.Cases[0];

        var signature = RequestSigner.Sign(Vectors.Key, vector.Timestamp, vector.Nonce, vector.Method.ToLowerInvariant(), vector.Path, vector.BodyBytes);

        Assert.Equal(vector.SignatureHex, signature);
    }
}
