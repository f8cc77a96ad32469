using System.Text.Json.Nodes;

namespace DecentCloud.Tests.Agent.Hetzner;

public sealed class HetznerSubsetTests
{
    /// <summary>Set to 1 to write the subset from the original instead of comparing (SOURCE.md).</summary>
    private const string WriteVariable = "DC_HETZNER_SUBSET_WRITE";

    [Fact]
    public void The_subset_kept_with_the_tests_is_what_the_extraction_gives_from_the_published_spec()
    {
        // A lone clone has only the subset; with the published contracts beside the checkout, it must match them.
        if (File.Exists(HetznerSubset.OriginalPath))
        {
            var expected = HetznerSubset.Extract(HetznerSubset.LoadOriginal());
            if (Environment.GetEnvironmentVariable(WriteVariable) == "1")
            {
                File.WriteAllText(HetznerSubset.SubsetPath, expected.ToJsonString(HetznerSubset.WriteOptions) + "\n");
            }
            Assert.True(File.Exists(HetznerSubset.SubsetPath), $"{HetznerSubset.SubsetPath} is missing; run with {WriteVariable}=1 to make it");
            Assert.True(JsonNode.DeepEquals(expected, HetznerSubset.LoadSubset()),
                $"hetzner-subset.json differs from what HetznerSubset.Extract gives from the published spec; run with {WriteVariable}=1 to make it again");
        }

        Assert.True(File.Exists(HetznerSubset.SubsetPath), $"{HetznerSubset.SubsetPath} is missing");
    }

    [Fact]
    public void The_subset_holds_every_operation_the_provisioner_calls_and_no_other()
    {
        var contract = HetznerContract.Load();

        Assert.Equal(
            HetznerSubset.Operations.Select(o => $"{o.Method.ToUpperInvariant()} {o.Path}").Order(StringComparer.Ordinal),
            contract.Operations.Select(o => o.Key).Order(StringComparer.Ordinal));
        Assert.Equal("3.0.3", HetznerSubset.LoadSubset()["openapi"]!.GetValue<string>());
    }
}
