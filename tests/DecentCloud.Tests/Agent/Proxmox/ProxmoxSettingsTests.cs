using DecentCloud.Agent;
using DecentCloud.Agent.Provisioners;
using DecentCloud.Agent.Provisioners.Proxmox;
using DecentCloud.Testing;
using Microsoft.Extensions.Options;
using AgentProgram = DecentCloud.Agent.Program;

namespace DecentCloud.Tests.Agent.Proxmox;

/// <summary>The <c>[proxmox]</c> section: the example passes, mistakes are refused naming their keys, and the kind makes a working provisioner.</summary>
public sealed class ProxmoxSettingsTests
{
    [Fact]
    public void The_example_config_passes_validation_and_gives_its_offerings_to_the_proxmox_provisioner()
    {
        var example = Path.Combine(AppContext.BaseDirectory, "examples", "proxmox.toml");
        Assert.Equal(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "agent", "examples", "proxmox.toml")), File.ReadAllText(example));

        using var host = AgentProgram.Create(example, builder => builder.Logging.ClearProviders());
        var options = host.Services.GetRequiredService<IOptions<AgentOptions>>().Value;
        var set = host.Services.GetRequiredService<ProvisionerSet>();

        Assert.Equal("manual", options.Provisioner);
        Assert.Equal("manual,proxmox", set.Names);
        Assert.Equal("proxmox", set.ForWork(new("c-1", "vm-large", "ab", null, 24, "accepted", null)).Name);
        Assert.Equal("manual", set.ForWork(new("c-2", "something-else", "ab", null, 24, "accepted", null)).Name);
    }

    [Fact]
    public void Mistakes_in_the_section_are_refused_each_naming_its_key()
    {
        using var config = Write("""
            provisioner = "proxmox"

            [proxmox]
            api_url = "http://pve1.example.com:8006"
            token_id = "dc-agent"
            token_secret = "s"
            token_secret_file = "relative/token"
            fingerprint = "AA:BB"
            request_timeout_seconds = 0
            nodes = "pve1"

            [proxmox.offerings."vm-small"]
            template_vmid = 5
            storage = "local lvm"
            user = "Root"
            ipconfig0 = "dhcp"
            memroy_mb = 1024
            """);

        using var host = AgentProgram.Create(config.Path, builder => builder.Logging.ClearProviders());
        var refused = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<AgentOptions>>().Value);

        foreach (var expected in new[]
        {
            "'proxmox.nodes' is not a setting of the proxmox provisioner",
            "'proxmox.offerings.vm-small.memroy_mb' is not a setting of a proxmox offering",
            "proxmox.api_url must be the host's https:// address",
            "proxmox.token_id must be USER@REALM!TOKENID",
            "proxmox: set exactly one of token_secret (or DC_AGENT_PROXMOX__TOKEN_SECRET) and token_secret_file",
            "proxmox.fingerprint must be the certificate's SHA-256 fingerprint",
            "proxmox.request_timeout_seconds must be between 1 and 300 seconds; got 0",
            "proxmox.offerings.vm-small.template_vmid must be the VM id of a template (100 to 999999999); got 5",
            "proxmox.offerings.vm-small.node (or proxmox.node) must name the node the template is on",
            "proxmox.offerings.vm-small.storage must be a storage id such as local-lvm; got 'local lvm'",
            "proxmox.offerings.vm-small.user must be a Linux user name",
            "proxmox.offerings.vm-small.ipconfig0 must be cloud-init's ipconfig",
        })
        {
            Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_kind_reads_the_token_from_its_file_and_the_provisioner_it_makes_works()
    {
        await using var standIn = await ProxmoxStandIn.StartAsync();
        var secretFile = Path.Combine(Path.GetTempPath(), $"proxmox-token-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(secretFile, ProxmoxStandIn.TokenSecret + "\n");
        try
        {
            var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["proxmox:api_url"] = standIn.BaseAddress.GetLeftPart(UriPartial.Authority),
                ["proxmox:token_id"] = ProxmoxStandIn.TokenId,
                ["proxmox:token_secret_file"] = secretFile,
                ["proxmox:fingerprint"] = standIn.Fingerprint.ToLowerInvariant(),
                ["proxmox:node"] = ProxmoxStandIn.Node,
                ["proxmox:offerings:vm-small:template_vmid"] = "9000",
            }).Build().GetSection("proxmox");
            Assert.Empty(ProxmoxProvisioner.Kind.Validate(section));
            using var services = new ServiceCollection().AddLogging().BuildServiceProvider();

            var provisioner = ProxmoxProvisioner.Kind.Create(services, section);
            var checks = await provisioner.VerifySetupAsync(CancellationToken.None);

            Assert.All(checks, check => Assert.Equal(SetupCheckLevel.Ok, check.Level));
            Assert.Equal(2, checks.Count);
            Assert.Empty(standIn.Violations);
        }
        finally
        {
            File.Delete(secretFile);
        }
    }

    [Fact]
    public async Task A_token_file_that_cannot_be_read_is_what_doctor_reports()
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["proxmox:api_url"] = "https://127.0.0.1:1",
            ["proxmox:token_id"] = ProxmoxStandIn.TokenId,
            ["proxmox:token_secret_file"] = "/nonexistent/proxmox-token",
            ["proxmox:node"] = ProxmoxStandIn.Node,
        }).Build().GetSection("proxmox");
        using var services = new ServiceCollection().AddLogging().BuildServiceProvider();

        var checks = await ProxmoxProvisioner.Kind.Create(services, section).VerifySetupAsync(CancellationToken.None);

        var check = Assert.Single(checks);
        Assert.Equal(SetupCheckLevel.Error, check.Level);
        Assert.StartsWith("proxmox: proxmox.token_secret_file '/nonexistent/proxmox-token' cannot be read: ", check.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_relative_token_file_is_taken_from_the_config_files_folder()
    {
        var folder = Directory.CreateTempSubdirectory("dc-agent-proxmox-");
        try
        {
            var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["proxmox:api_url"] = "https://127.0.0.1:1",
                ["proxmox:token_id"] = ProxmoxStandIn.TokenId,
                ["proxmox:token_secret_file"] = "secrets/proxmox-token",
                ["proxmox:node"] = ProxmoxStandIn.Node,
            }).Build().GetSection("proxmox");
            Assert.Empty(ProxmoxProvisioner.Kind.Validate(section));
            using var services = new ServiceCollection().AddLogging().AddSingleton(new AgentConfigFolder(folder.FullName)).BuildServiceProvider();

            var checks = await ProxmoxProvisioner.Kind.Create(services, section).VerifySetupAsync(CancellationToken.None);

            // Not there yet: doctor names the file where the agent looked, in the config file's folder.
            var check = Assert.Single(checks);
            Assert.StartsWith($"proxmox: proxmox.token_secret_file '{Path.Combine(folder.FullName, "secrets", "proxmox-token")}' cannot be read: ", check.Message, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static TempFile Write(string toml) => new(toml);

    private sealed class TempFile : IDisposable
    {
        public TempFile(string toml)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"dc-agent-proxmox-{Guid.NewGuid():N}.toml");
            File.WriteAllText(Path, $"provider_pubkey = \"79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664\"\n{toml}\n");
        }

        public string Path { get; }

        public void Dispose() => File.Delete(Path);
    }
}
