using System.Security.Cryptography;
using DecentCloud.Shared.Sealing;
using DecentCloud.Shared.Signing;

namespace DecentCloud.Tests.Sealing;

public sealed class CredentialSealerTests
{
    // The published v2 vector, computed by the web client's implementation (docs/sealing.md): a fixed test key
    // (seed bytes 0x01..0x20, never a real one), a fixed ephemeral secret (0x40..0x5f) and nonce (0x80..0x97).
    private const string RecipientSeedHex = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
    private const string RecipientPublicHex = "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664";
    private const string Password = "root-password-Example-123";
    private const string ContractId = "contract-0001";

    private static readonly SealedCredentials Expected = new(
        Version: 2,
        EphemeralPubkey: "eaYx7t4b+cmPEgMs3q3Q56B5OY/HhriMyEbsia+FpRo=",
        Nonce: "gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaX",
        Ciphertext: "OQVTeCzAk2YVBkCcV1KegyVXdFFm4RM6yryMtkRGzVMJ4SmvXcSGTwU=",
        Aad: "Y29udHJhY3QtMDAwMQ==");

    private static byte[] Run(byte first, int count) => [.. Enumerable.Range(first, count).Select(b => (byte)b)];

    [Fact]
    public void The_vector_key_is_the_public_key_of_the_vector_seed()
    {
        Assert.Equal(RecipientPublicHex, Ed25519phKey.FromSeedHex(RecipientSeedHex).PublicKeyHex);
    }

    [Fact]
    public void Sealing_with_the_vectors_ephemeral_secret_and_nonce_reproduces_the_ciphertext_exactly()
    {
        var sealedCredentials = CredentialSealer.Seal(Convert.FromHexString(RecipientPublicHex), Password, ContractId,
            ephemeralSecret: Run(0x40, 32), nonce: Run(0x80, 24));

        Assert.Equal(Expected, sealedCredentials);
    }

    [Fact]
    public void The_vector_opens_with_the_renters_seed()
    {
        Assert.Equal(Password, CredentialSealer.Open(Expected, Convert.FromHexString(RecipientSeedHex), ContractId));
    }

    [Fact]
    public void The_vector_does_not_open_for_another_contract()
    {
        Assert.Throws<CryptographicException>(() => CredentialSealer.Open(Expected, Convert.FromHexString(RecipientSeedHex), "contract-0002"));
    }

    [Fact]
    public void A_blob_whose_stated_aad_was_changed_does_not_open_either()
    {
        var moved = Expected with { Aad = Convert.ToBase64String("contract-0002"u8) };

        Assert.Throws<CryptographicException>(() => CredentialSealer.Open(moved, Convert.FromHexString(RecipientSeedHex), "contract-0002"));
    }

    [Fact]
    public void An_altered_ciphertext_does_not_open()
    {
        var bytes = Convert.FromBase64String(Expected.Ciphertext);
        bytes[3] ^= 1;

        Assert.Throws<CryptographicException>(() =>
            CredentialSealer.Open(Expected with { Ciphertext = Convert.ToBase64String(bytes) }, Convert.FromHexString(RecipientSeedHex), ContractId));
    }

    [Fact]
    public void Another_key_cannot_open_it()
    {
        var stranger = Run(0x21, 32);

        Assert.Throws<CryptographicException>(() => CredentialSealer.Open(Expected, stranger, ContractId));
    }

    [Fact]
    public void A_fresh_seal_opens_and_uses_a_new_ephemeral_key_and_nonce_each_time()
    {
        var renter = Ed25519phKey.Generate();

        var first = CredentialSealer.Seal(renter.PublicKey.ToBytes(), "s3cret ünïcode", "c-1");
        var second = CredentialSealer.Seal(renter.PublicKey.ToBytes(), "s3cret ünïcode", "c-1");

        Assert.Equal("s3cret ünïcode", CredentialSealer.Open(first, Convert.FromHexString(renter.ExportSeedHex()), "c-1"));
        Assert.NotEqual(first.EphemeralPubkey, second.EphemeralPubkey);
        Assert.NotEqual(first.Nonce, second.Nonce);
    }

    [Fact]
    public void A_key_that_is_not_a_curve_point_is_refused_before_sealing()
    {
        var notAPoint = Convert.FromHexString("0200000000000000000000000000000000000000000000000000000000000000");

        Assert.Throws<FormatException>(() => CredentialSealer.Seal(notAPoint, Password, ContractId));
    }

    [Fact]
    public void HChaCha20_matches_the_xchacha_draft_vector()
    {
        // draft-irtf-cfrg-xchacha-03, section 2.2.1.
        var key = Run(0x00, 32);
        var nonce = Convert.FromHexString("000000090000004a0000000031415927");

        Assert.Equal("82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc",
            Convert.ToHexStringLower(CredentialSealer.HChaCha20(key, nonce)));
    }
}
