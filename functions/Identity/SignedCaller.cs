namespace DecentCloud.Functions.Identity;

/// <summary>
/// Who signed the request, set by the signature check before a signed HTTP function runs. The key is the
/// caller's identity (docs/signing.md: users and providers are Ed25519 public keys), so a function compares it with
/// the key that owns the resource and refuses a wrong one.
/// </summary>
/// <param name="PublicKeyHex">The signer's Ed25519 public key, lower-case hex.</param>
public sealed record SignedCaller(string PublicKeyHex, Guid Nonce, DateTimeOffset SignedAt)
{
    /// <exception cref="InvalidOperationException">The function was not registered with <c>SignedHttp</c>, so nobody checked a signature.</exception>
    public static SignedCaller Of(HttpContext context) =>
        context.Features.Get<SignedCaller>()
        ?? throw new InvalidOperationException("This request carries no verified signature: mark the function [Signed] to have its requests verified.");

    /// <summary>True when <paramref name="publicKeyHex"/> (hex in either case) is the caller's key.</summary>
    public bool Is(string publicKeyHex) => string.Equals(PublicKeyHex, publicKeyHex, StringComparison.OrdinalIgnoreCase);

    public override string ToString() => PublicKeyHex;
}
