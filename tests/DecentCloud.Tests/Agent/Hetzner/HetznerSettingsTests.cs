using DecentCloud.Agent;
using DecentCloud.Agent.Provisioners;
using DecentCloud.Agent.Provisioners.Hetzner;
using Microsoft.Extensions.Options;
using AgentProgram = DecentCloud.Agent.Program;

namespace DecentCloud.Tests.Agent.Hetzner;

public sealed class HetznerSettingsTests
{
    [Fact]
    public void The_example_config_passes_validation_and_routes_its_offerings_to_hetzner()
    {
        var examplePath = Path.Combine(AppContext.BaseDirectory, "examples", "hetzner.toml");

        using var host = AgentProgram.Create(examplePath, builder => builder.Logging.ClearProviders());
        var options = host.Services.GetRequiredService<IOptions<AgentOptions>>().Value;
        var provisioners = host.Services.GetRequiredService<ProvisionerSet>();

        Assert.Equal("manual", options.Provisioner);
        Assert.Equal("manual,hetzner", provisioners.Names);
        Assert.IsType<HetznerProvisioner>(provisioners.ForWork(new("c-1", "small-vm", "ab", null, 24, "accepted", DateTimeOffset.UnixEpoch)));
        Assert.IsType<HetznerProvisioner>(provisioners.ForWork(new("c-2", "arm-vm", "ab", null, 24, "accepted", DateTimeOffset.UnixEpoch)));
    }

    [Fact]
    public void A_bad_section_is_refused_with_each_key_named()
    {
        var section = Section(new()
        {
            ["hetzner:token"] = "abc",
            ["hetzner:token_file"] = "hetzner.token",
            ["hetzner:api_base_url"] = "ftp://api.example",
            ["hetzner:request_timeout_seconds"] = "0",
            ["hetzner:max_retries"] = "11",
            ["hetzner:action_timeout_seconds"] = "5",
            ["hetzner:tokn"] = "x",
            ["hetzner:offerings:small-vm:server_type"] = "",
            ["hetzner:offerings:small-vm:imag"] = "ubuntu-24.04",
        });

        var problems = HetznerProvisioner.Kind.Validate(section).ToList();

        Assert.Equal(
            [
                "'hetzner.tokn' is not a setting of the hetzner provisioner; known: token, token_file, api_base_url, request_timeout_seconds, max_retries, action_timeout_seconds, offerings",
                "hetzner: set one of hetzner.token_file (a file holding the project's API token) or hetzner.token (or the DC_AGENT_HETZNER__TOKEN variable), not both",
                "hetzner.api_base_url must be an absolute http:// or https:// URL, such as https://api.hetzner.cloud/v1",
                "hetzner.request_timeout_seconds must be between 1 and 300 seconds; got 0",
                "hetzner.max_retries must be between 0 and 10; got 11",
                "hetzner.action_timeout_seconds must be between 10 and 3600 seconds; got 5",
                "'hetzner.offerings.small-vm.imag' is not a setting of a hetzner offering; known: server_type, image, location",
                "hetzner.offerings.small-vm.server_type must name a Hetzner server type, such as cx22",
                "hetzner.offerings.small-vm.image must name a Hetzner image, such as ubuntu-24.04",
            ],
            problems);
    }

    [Fact]
    public void A_section_without_a_token_says_where_to_put_one()
    {
        var problems = HetznerProvisioner.Kind.Validate(Section(new() { ["hetzner:offerings:a:server_type"] = "cx22", ["hetzner:offerings:a:image"] = "debian-12" })).ToList();

        Assert.Equal(["hetzner: set one of hetzner.token_file (a file holding the project's API token) or hetzner.token (or the DC_AGENT_HETZNER__TOKEN variable)"], problems);
    }

    private static IConfigurationSection Section(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection(HetznerProvisioner.Name);
}
