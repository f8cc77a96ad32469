using DecentCloud.Agent;
using DecentCloud.Agent.Configuration;
using DecentCloud.Agent.Provisioners;
using DecentCloud.Agent.Provisioners.Docker;
using Microsoft.Extensions.Options;
using AgentProgram = DecentCloud.Agent.Program;

namespace DecentCloud.Tests.Agent.Docker;

/// <summary>The <c>[docker]</c> section: the example file is accepted, and each mistake is refused naming its key.</summary>
public sealed class DockerSettingsTests
{
    private const string Head = """
        provider_pubkey = "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664"

        """;

    [Fact]
    public void The_example_config_passes_validation_and_routes_its_offerings_to_docker()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "examples", "docker.toml");
        using var host = AgentProgram.Create(path, builder => builder.Logging.ClearProviders());

        Assert.Equal("manual", host.Services.GetRequiredService<IOptions<AgentOptions>>().Value.Provisioner);
        var set = host.Services.GetRequiredService<ProvisionerSet>();
        Assert.Equal("manual,docker", set.Names);
        var work = new DecentCloud.Agent.Api.Work("c-1", "openssh-server", "ab", null, 1, "accepted", null);
        Assert.Equal("docker", set.ForWork(work).Name);
        var configuration = new ConfigurationBuilder().Add(new TomlConfigurationSource(path)).Build();
        var docker = configuration.GetSection("docker").Get<DockerOptions>()!;
        Assert.Equal(2222, docker.Offerings["openssh-server"].SshPort);
        Assert.Equal("true", docker.Offerings["openssh-server"].Env["PASSWORD_ACCESS"]);
    }

    [Theory]
    [InlineData("endpoint = \"http://docker:2375\"", "docker.endpoint must be unix:///<path of the socket> or tcp://<host>:<port>")]
    [InlineData("endpoint = \"tcp://10.0.0.5\"", "docker.endpoint must be unix:///<path of the socket> or tcp://<host>:<port>")]
    [InlineData("endpoint = \"tcp://10.0.0.5:2376\"\ntls_ca_file = \"ca.pem\"", "set all three or none")]
    [InlineData("tls_ca_file = \"ca.pem\"\ntls_cert_file = \"c.pem\"\ntls_key_file = \"k.pem\"", "apply to a tcp:// endpoint only")]
    [InlineData("public_host = \"\"", "docker.public_host must be the address renters reach")]
    [InlineData("public_host = \"not a host\"", "docker.public_host must be an IPv4 or IPv6 address or a DNS name")]
    [InlineData("ssh_port_range = \"30010-30000\"", "docker.ssh_port_range must be '<first>-<last>'")]
    [InlineData("pull_timeout_seconds = 0", "docker.pull_timeout_seconds must be between 1 and 3600 seconds; got 0")]
    [InlineData("pul_timeout_seconds = 10", "'docker.pul_timeout_seconds' is not a setting of the docker provisioner")]
    [InlineData("[docker.offerings.\"x\"]\ncpus = 1", "docker.offerings.x.image must name the image to run")]
    [InlineData("[docker.offerings.\"x\"]\nimage = \"a:1\"\ncpus = 0", "docker.offerings.x.cpus must be above 0")]
    [InlineData("[docker.offerings.\"x\"]\nimage = \"a:1\"\nmemory_mb = 4", "docker.offerings.x.memory_mb must be between 6 and")]
    [InlineData("[docker.offerings.\"x\"]\nimage = \"a:1\"\nssh_port = 70000", "docker.offerings.x.ssh_port must be a port")]
    [InlineData("[docker.offerings.\"x\"]\nimage = \"a:1\"\npassword_env = \"MY-PASSWORD\"", "docker.offerings.x.password_env must be an environment variable name")]
    [InlineData("[docker.offerings.\"x\"]\nimage = \"a:1\"\nimgae = \"b\"", "'docker.offerings.x.imgae' is not a setting of a docker offering")]
    public void A_mistake_in_the_docker_section_is_refused_naming_its_key(string lines, string expected)
    {
        var directory = Directory.CreateTempSubdirectory("dc-docker-settings-");
        try
        {
            var path = Path.Combine(directory.FullName, "dc-agent.toml");
            var docker = lines.StartsWith('[') ? $"[docker]\npublic_host = \"203.0.113.10\"\n{lines}" : $"[docker]\npublic_host = \"203.0.113.10\"\n{lines}";
            // A key given twice in TOML is an error of its own: the test's line wins over the default public_host.
            if (lines.StartsWith("public_host", StringComparison.Ordinal))
            {
                docker = $"[docker]\n{lines}";
            }
            File.WriteAllText(path, Head + docker + "\n");
            using var host = AgentProgram.Create(path, builder => builder.Logging.ClearProviders());

            var refused = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<AgentOptions>>().Value);

            Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
