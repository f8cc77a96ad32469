using DecentCloud.Testing;

namespace DecentCloud.Tests.Signing;

public sealed class ContractCopyTests
{
    [Theory]
    [InlineData("decent-cloud", "signing_vectors.json")]
    [InlineData("decent-cloud", "sealing_vectors.json")]
    [InlineData("stripe", "fixtures.json")]
    [InlineData("stripe", "webhook_signature_vectors.json")]
    [InlineData("icpay", "webhook_signature_vectors.json")]
    public void The_vectors_kept_with_the_tests_are_the_published_ones(string folder, string file)
    {
        var copy = Path.Combine(RepositoryRoot.Path, "tests", "DecentCloud.Tests", "Contracts", folder, file);
        var published = Path.GetFullPath(Path.Combine(RepositoryRoot.Path, "..", "shared", "contracts", folder, file));

        Assert.True(File.Exists(copy), $"{copy} is missing");
        // CI runs with the project's shared/ folder beside the checkout; a lone clone has only the copy.
        if (File.Exists(published))
        {
            Assert.Equal(File.ReadAllText(published), File.ReadAllText(copy));
        }
    }
}
