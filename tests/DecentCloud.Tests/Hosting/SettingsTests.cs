using System.Text.Json;
using DecentCloud.Testing;
using DecentCloud.Tests.Support;
using Microsoft.Extensions.Options;

namespace DecentCloud.Tests.Hosting;

/// <summary>The app's own settings: a bad one stops the worker naming it; the sample settings pass every check.</summary>
public sealed class SettingsTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    [Theory]
    [InlineData("AzureWebJobsStorage", "this is not a connection string")]
    [InlineData("SIGNED_BODY_MAX_BYTES", "-1")]
    [InlineData("STRIPE_SECRET_KEY", "")]
    public async Task A_missing_or_bad_setting_stops_the_app_with_the_settings_name(string setting, string value)
    {
        var logs = new CapturedLogs();
        var settings = new Dictionary<string, string?> { [setting] = value };

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => TestFunctionApp.StartAsync(storage.ConnectionString, settings: settings, logs: logs));

        // The worker's own report (its standard error, logged by the host) may follow the host's failure by a moment.
        string Told() => failure + string.Join('\n', logs.Entries.Select(e => e.Message + e.Exception));
        await Eventually.HoldsAsync(() => Told().Contains(setting, StringComparison.Ordinal), $"the failure names {setting}");
        var told = Told();
        Assert.DoesNotContain("tests_not_a_real_key", told, StringComparison.Ordinal);
    }

    [Fact]
    public void The_sample_settings_hold_every_setting_the_app_reads_and_they_pass_validation()
    {
        using var sample = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "local.settings.sample.json")));
        var values = sample.RootElement.GetProperty("Values").EnumerateObject().ToDictionary(p => p.Name, p => (string?)p.Value.ToString());
        using var services = TestFunctionApp.AppServices(values);

        // Every setting of the app is bound and validated as the worker does it at start-up.
        services.GetRequiredService<IStartupValidator>().Validate();
        Assert.Equal("UseDevelopmentStorage=true", services.GetRequiredService<IOptions<DecentCloud.Functions.Platform.Configuration.StorageOptions>>().Value.ConnectionString);
    }
}
