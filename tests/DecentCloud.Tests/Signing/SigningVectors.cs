using System.Globalization;
using System.Text;
using System.Text.Json;
using DecentCloud.Shared.Signing;
using DecentCloud.Testing;

namespace DecentCloud.Tests.Signing;

/// <summary>
/// The signing test vectors from an independent implementation (tests/DecentCloud.Tests/Contracts/decent-cloud,
/// a copy of the project's published contract kept with the tests so any clone can run them).
/// </summary>
public sealed record SigningVectors(string SecretKeyHex, string PublicKeyHex, IReadOnlyList<SigningVector> Cases)
{
    public static readonly string FilePath = Path.GetFullPath(
        Path.Combine(RepositoryRoot.Path, "tests", "DecentCloud.Tests", "Contracts", "decent-cloud", "signing_vectors.json"));

    private static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static readonly Lazy<SigningVectors> Loaded = new(() =>
        JsonSerializer.Deserialize<SigningVectors>(File.ReadAllText(FilePath), SnakeCase)
        ?? throw new InvalidOperationException($"{FilePath} is empty."));

    public static SigningVectors All => Loaded.Value;

    public static TheoryData<int> Indexes => [.. Enumerable.Range(0, All.Cases.Count)];

    public Ed25519phKey Key => Ed25519phKey.FromSeedHex(SecretKeyHex);
}

public sealed record SigningVector(string Timestamp, string Nonce, string Method, string Path, string Body, string SignatureHex)
{
    public byte[] BodyBytes => Encoding.UTF8.GetBytes(Body);

    public DateTimeOffset Time => UnixNanoseconds.ToDateTimeOffset(long.Parse(Timestamp, CultureInfo.InvariantCulture));

    public SignatureHeaders Headers(string publicKeyHex) => new(publicKeyHex, SignatureHex, Timestamp, Nonce);
}
