using System.Net;
using System.Text.Json;
using DecentCloud.Tests.Support;
using AgentProgram = DecentCloud.Agent.Program;

namespace DecentCloud.Tests.Agent;

public sealed class SignedRequestCommandTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>, IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("dc-keys-");

    public void Dispose() => folder.Delete(recursive: true);

    private static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await AgentProgram.RunAsync(args, stdout, stderr, CancellationToken.None);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Keygen_writes_a_private_seed_file_prints_the_public_key_and_never_overwrites()
    {
        var keyFile = Path.Combine(folder.FullName, "me.key");

        var first = await Run("keygen", keyFile);
        var second = await Run("keygen", keyFile);

        Assert.Equal(0, first.Exit);
        var publicKey = first.Out.Trim();
        Assert.Matches("^[0-9a-f]{64}$", publicKey);
        Assert.Equal(publicKey, DecentCloud.Shared.Signing.Ed25519phKey.FromSeedHex(File.ReadAllText(keyFile).Trim()).PublicKeyHex);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        }

        Assert.Equal(1, second.Exit);
        Assert.Equal(publicKey, DecentCloud.Shared.Signing.Ed25519phKey.FromSeedHex(File.ReadAllText(keyFile).Trim()).PublicKeyHex);
    }

    [Fact]
    public async Task A_signed_request_from_the_command_line_onboards_a_provider_on_the_real_app()
    {
        await using var app = await TestFunctionApp.StartAsync(storage.ConnectionString);
        var keyFile = Path.Combine(folder.FullName, "provider.key");
        var publicKey = (await Run("keygen", keyFile)).Out.Trim();
        var body = Path.Combine(folder.FullName, "profile.json");
        File.WriteAllText(body, """{"name":"Acme Hosting","supportEmail":"help@acme.example","regions":["eu-central"]}""");

        var onboard = await Run("request", "POST", new Uri(app.Client.BaseAddress!, "api/v1/providers").ToString(), "--key-file", keyFile, "--data", "@" + body);
        var read = await app.Client.GetAsync($"api/v1/providers/{publicKey}");

        Assert.Equal(0, onboard.Exit);
        Assert.StartsWith("201 ", onboard.Out, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal("Acme Hosting", JsonSerializer.Deserialize<JsonElement>(await read.Content.ReadAsStringAsync()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task A_refused_request_exits_1_and_prints_the_problem()
    {
        await using var app = await TestFunctionApp.StartAsync(storage.ConnectionString);
        var keyFile = Path.Combine(folder.FullName, "provider.key");
        await Run("keygen", keyFile);

        var result = await Run("request", "POST", new Uri(app.Client.BaseAddress!, "api/v1/providers").ToString(), "--key-file", keyFile, "--data", """{"supportEmail":"help@acme.example"}""");

        Assert.Equal(1, result.Exit);
        Assert.StartsWith("400 ", result.Out, StringComparison.Ordinal);
        Assert.Contains("name", result.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("request", "GET", "not-a-url", "--key-file", "k")]
    [InlineData("request", "GET", "http://127.0.0.1:1/api/health")]
    [InlineData("keygen")]
    public async Task A_bad_command_line_exits_2_with_usage(params string[] args)
    {
        var result = await Run(args);

        Assert.Equal(2, result.Exit);
        Assert.Contains("Usage: dc-agent keygen", result.Err, StringComparison.Ordinal);
    }
}
