using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace DecentCloud.Tests.Agent.Proxmox;

/// <summary>The facts the stand-in checks against are what Proxmox's own schema says, wherever that schema is at hand.</summary>
public sealed class ProxmoxApiFactsTests(ITestOutputHelper output)
{
    [Fact]
    public void The_facts_file_is_the_extract_of_the_published_schema()
    {
        Assert.True(File.Exists(ProxmoxApiFacts.FactsPath), $"{ProxmoxApiFacts.FactsPath} is missing");
        // CI runs with the project's published contracts beside the checkout; a lone clone has only the extract.
        if (!File.Exists(ProxmoxApiFacts.PublishedSchemaPath))
        {
            output.WriteLine($"skipped: {ProxmoxApiFacts.PublishedSchemaPath} is not here, so the extract is taken as it is");
            return;
        }

        var schema = File.ReadAllBytes(ProxmoxApiFacts.PublishedSchemaPath);
#pragma warning disable CA5350 // Git names a blob by its SHA-1; this checks identity, not secrecy.
        var blob = Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {schema.Length}\0"), .. schema]));
#pragma warning restore CA5350
        var expected = ProxmoxApiFacts.Extract(Encoding.UTF8.GetString(schema));
        var actual = JsonNode.Parse(File.ReadAllText(ProxmoxApiFacts.FactsPath));

        if (Environment.GetEnvironmentVariable("DC_WRITE_PROXMOX_FACTS") == "1")
        {
            File.WriteAllText(ProxmoxApiFacts.FactsPath, ProxmoxApiFacts.Format(expected));
            return;
        }
        Assert.True(blob == ProxmoxApiFacts.SchemaBlob,
            $"the published apidata.js is blob {blob}, not {ProxmoxApiFacts.SchemaBlob}: update SchemaBlob and the source note, then run this test with DC_WRITE_PROXMOX_FACTS=1 and review the change");
        Assert.True(JsonNode.DeepEquals(expected, actual),
            "proxmox-api-facts.json differs from what ProxmoxApiFacts.Extract makes of apidata.js; run this test with DC_WRITE_PROXMOX_FACTS=1 to write it again and review the change");
    }

    [Fact]
    public void The_facts_cover_every_endpoint_of_the_selection_and_no_prose()
    {
        var facts = ProxmoxApiFacts.Load();

        Assert.Equal(ProxmoxApiFacts.Selection.Select(s => $"{s.Method} {s.Path}"), facts.Endpoints.Select(e => e.Key));
        Assert.DoesNotContain("\"description\": \"", File.ReadAllText(ProxmoxApiFacts.FactsPath), StringComparison.Ordinal);
        var clone = facts.Find("POST", "/nodes/pve1/qemu/9000/clone");
        Assert.NotNull(clone);
        Assert.Equal("9000", clone.Value.Values["vmid"]);
        Assert.Null(clone.Value.Endpoint.Parameters["newid"]!["optional"]);
        Assert.Equal("urlencoded", facts.Find("PUT", "/nodes/pve1/qemu/100/config")!.Value.Endpoint.Parameters["sshkeys"]!["format"]!.GetValue<string>());
    }
}
