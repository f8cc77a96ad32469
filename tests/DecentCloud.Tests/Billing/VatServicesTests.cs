using Azure.Data.Tables;
using DecentCloud.Functions.Billing.Vat;
using Microsoft.Extensions.Options;

namespace DecentCloud.Tests.Billing;

/// <summary>AddVat as the app gets it: settings bound by their names and validated, the client pointed at VIES_BASE_URL.</summary>
public sealed class VatServicesTests
{
    [Fact]
    public void The_defaults_point_at_the_real_vies_with_a_10_second_timeout()
    {
        using var services = Build([]);

        var options = services.GetRequiredService<IOptions<VatOptions>>().Value;

        Assert.Equal(new Uri("https://ec.europa.eu/taxation_customs/vies/rest-api/"), options.ViesBaseUrl);
        Assert.Equal(TimeSpan.FromSeconds(10), options.ViesTimeout);
        Assert.Same(EuVatRates.Default, services.GetRequiredService<EuVatRates>());
        Assert.Same(services.GetRequiredService<VatIdChecks>(), services.GetRequiredService<VatIdChecks>());
    }

    [Fact]
    public async Task The_client_calls_check_vat_number_under_vies_base_url_even_without_a_trailing_slash()
    {
        await using var standIn = await ViesStandIn.StartAsync();
        standIn.AddValid("DE", "123456789", "Acme GmbH", null);
        using var services = Build(new() { [VatOptions.ViesBaseUrlSetting] = standIn.BaseAddress.AbsoluteUri.TrimEnd('/'), [VatOptions.ViesTimeoutSetting] = "3" });

        var answer = await services.GetRequiredService<ViesClient>().CheckAsync("DE", "123456789", CancellationToken.None);

        Assert.Equal((true, "Acme GmbH"), (answer.Valid, answer.Name));
        Assert.Equal(ViesStandIn.RootPath + "check-vat-number", Assert.Single(standIn.Requests).Path);
    }

    [Theory]
    [InlineData(VatOptions.ViesBaseUrlSetting, "ftp://ec.europa.eu/vies/")]
    [InlineData(VatOptions.ViesBaseUrlSetting, "vies/rest-api/")]
    [InlineData(VatOptions.ViesTimeoutSetting, "0")]
    [InlineData(VatOptions.ViesTimeoutSetting, "soon")]
    public void A_bad_setting_is_refused_by_its_name(string setting, string value)
    {
        using var services = Build(new() { [setting] = value });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<VatOptions>>().Value);

        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging()
            .AddSingleton(TimeProvider.System)
            .AddSingleton(new TableServiceClient("UseDevelopmentStorage=true"))
            .AddVat()
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
