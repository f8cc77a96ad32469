using System.Net;
using System.Net.Http.Json;
using Azure.Data.Tables;
using DecentCloud.Functions.Marketplace.Offerings;
using DecentCloud.Functions.Marketplace.Providers;
using DecentCloud.Shared.Signing;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Marketplace;

public sealed class OfferingTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private readonly Ed25519phKey provider = Ed25519phKey.Generate();
    private readonly Ed25519phKey stranger = Ed25519phKey.Generate();

    // The class shares one storage account: each test prices in a currency of its own and searches only that one.
    private readonly string currency = string.Concat(Enumerable.Range(0, 3).Select(_ => (char)('A' + Random.Shared.Next(26))));
    private readonly TestFunctionApp app = fixture.App;

    private TableClient Offerings => app.Services.GetRequiredService<OfferingStore>().Table;

    private OfferingSpec Spec(string? name = "Small VM") =>
        new(name, "vm", 2, 4, 80, null, 1000, "DE", "Frankfurt", 1500, currency, 1, 720, "hetzner", "kv://hetzner/fsn1", 10);

    private static ProviderProfile Profile(string name = "Acme Cloud") =>
        new(name, null, null, "support@acme.example", ["eu-central"], null, null);

    private async Task OnboardAsync(Ed25519phKey key)
    {
        using var client = app.SignedBy(key);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("api/v1/providers", Profile())).StatusCode);
    }

    private async Task<HttpResponseMessage> CreateAsync(Ed25519phKey signer, string pubkey, object body)
    {
        using var client = app.SignedBy(signer);
        return await client.PostAsJsonAsync($"api/v1/providers/{pubkey}/offerings", body);
    }

    private async Task<OfferingView> CreatedAsync(OfferingSpec spec)
    {
        var response = await CreateAsync(provider, provider.PublicKeyHex, spec);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<OfferingView>())!;
    }

    private async Task<HttpResponseMessage> UpdateAsync(Ed25519phKey signer, string pubkey, string id, object body)
    {
        using var client = app.SignedBy(signer);
        return await client.PutAsJsonAsync($"api/v1/providers/{pubkey}/offerings/{id}", body);
    }

    private async Task<HttpResponseMessage> PostAsync(Ed25519phKey signer, string path)
    {
        using var client = app.SignedBy(signer);
        return await client.PostAsync(path, null);
    }

    private async Task<List<OfferingEntity>> RowsAsync(string pubkey)
    {
        await Offerings.CreateIfNotExistsAsync();
        return await Offerings.QueryAsync<OfferingEntity>(o => o.PartitionKey == pubkey).ToListAsync();
    }

    private async Task<OfferingPage> SearchAsync(string query)
    {
        var response = await app.Client.GetAsync($"api/v1/offerings?currency={currency}&{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<OfferingPage>())!;
    }

    private async Task<List<string>> SearchNamesAsync(string query) =>
        (await SearchAsync(query)).Items.Select(o => o.Name).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task A_provider_creates_an_offering_and_anyone_reads_it()
    {
        await OnboardAsync(provider);

        var response = await CreateAsync(provider, provider.PublicKeyHex, Spec() with { Name = "  Small VM  ", Gpu = " " });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<OfferingView>();
        Assert.Equal($"/api/v1/providers/{provider.PublicKeyHex}/offerings/{created!.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal("Small VM", created.Name);
        Assert.Null(created.Gpu);
        Assert.Equal(provider.PublicKeyHex, created.ProviderPublicKey);
        Assert.False(created.Hidden);

        var row = Assert.Single(await RowsAsync(provider.PublicKeyHex));
        Assert.Equal(created.Id, row.RowKey);
        Assert.Equal(1500L, row.MonthlyPriceMinor);
        Assert.Equal("kv://hetzner/fsn1", row.ProvisionerConfigRef);

        var read = await app.Client.GetFromJsonAsync<OfferingView>($"api/v1/providers/{provider.PublicKeyHex}/offerings/{created.Id}");
        Assert.Equal(created, read);
    }

    [Fact]
    public async Task The_provider_updates_its_offering()
    {
        await OnboardAsync(provider);
        var created = await CreatedAsync(Spec());

        var response = await UpdateAsync(provider, provider.PublicKeyHex, created.Id, Spec("Bigger VM") with { CpuCores = 8, Stock = 3 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var read = await app.Client.GetFromJsonAsync<OfferingView>($"api/v1/providers/{provider.PublicKeyHex}/offerings/{created.Id}");
        Assert.Equal("Bigger VM", read!.Name);
        Assert.Equal(8, read.CpuCores);
        Assert.Equal(3, read.Stock);
        Assert.Equal(created.CreatedAt, read.CreatedAt);
        Assert.Single(await RowsAsync(provider.PublicKeyHex));
    }

    [Fact]
    public async Task A_hidden_offering_is_not_read_or_found_until_shown_again()
    {
        await OnboardAsync(provider);
        var created = await CreatedAsync(Spec());
        var path = $"api/v1/providers/{provider.PublicKeyHex}/offerings/{created.Id}";

        var hidden = await PostAsync(provider, $"{path}/hide");

        Assert.Equal(HttpStatusCode.OK, hidden.StatusCode);
        Assert.True((await hidden.Content.ReadFromJsonAsync<OfferingView>())!.Hidden);
        Assert.True(Assert.Single(await RowsAsync(provider.PublicKeyHex)).Hidden);
        await ApiAssert.ProblemAsync(await app.Client.GetAsync(path), HttpStatusCode.NotFound);
        Assert.Empty((await SearchAsync("")).Items);

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(provider, $"{path}/show")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync(path)).StatusCode);
        Assert.Single((await SearchAsync("")).Items);
    }

    [Fact]
    public async Task Creating_without_a_name_is_a_400_naming_the_field_and_writes_nothing()
    {
        await OnboardAsync(provider);

        var response = await CreateAsync(provider, provider.PublicKeyHex, Spec(name: null));

        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("name", out _));
        Assert.Empty(await RowsAsync(provider.PublicKeyHex));
    }

    [Fact]
    public async Task Creating_with_bad_fields_is_a_400_naming_each_field_and_writes_nothing()
    {
        await OnboardAsync(provider);

        var response = await CreateAsync(provider, provider.PublicKeyHex, Spec() with
        {
            ProductType = "vps", CpuCores = 0, Country = "de", Currency = "euro", MinHours = 10, MaxHours = 5, ProvisionerType = "aws", Stock = -1,
        });

        var errors = (await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest)).GetProperty("errors");
        foreach (var field in new[] { "productType", "cpuCores", "country", "currency", "maxHours", "provisionerType", "stock" })
        {
            Assert.True(errors.TryGetProperty(field, out _), field);
        }

        Assert.Empty(await RowsAsync(provider.PublicKeyHex));
    }

    [Fact]
    public async Task Unsigned_creation_is_a_401_and_writes_nothing()
    {
        await OnboardAsync(provider);

        var response = await app.Client.PostAsJsonAsync($"api/v1/providers/{provider.PublicKeyHex}/offerings", Spec());

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Empty(await RowsAsync(provider.PublicKeyHex));
    }

    [Fact]
    public async Task Creating_under_another_providers_key_is_a_403_and_writes_nothing()
    {
        await OnboardAsync(provider);
        await OnboardAsync(stranger);

        var response = await CreateAsync(stranger, provider.PublicKeyHex, Spec());

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Empty(await RowsAsync(provider.PublicKeyHex));
        Assert.Empty(await RowsAsync(stranger.PublicKeyHex));
    }

    [Fact]
    public async Task A_key_that_is_not_an_onboarded_provider_cannot_create_offerings()
    {
        var response = await CreateAsync(provider, provider.PublicKeyHex, Spec());

        await ApiAssert.ProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Empty(await RowsAsync(provider.PublicKeyHex));
    }

    [Fact]
    public async Task Another_key_cannot_update_hide_or_show_an_offering_and_it_stays_unchanged()
    {
        await OnboardAsync(provider);
        var created = await CreatedAsync(Spec());
        var path = $"api/v1/providers/{provider.PublicKeyHex}/offerings/{created.Id}";
        var before = Assert.Single(await RowsAsync(provider.PublicKeyHex));

        await ApiAssert.ProblemAsync(await UpdateAsync(stranger, provider.PublicKeyHex, created.Id, Spec("Hijacked")), HttpStatusCode.Forbidden);
        await ApiAssert.ProblemAsync(await PostAsync(stranger, $"{path}/hide"), HttpStatusCode.Forbidden);
        await ApiAssert.ProblemAsync(await PostAsync(stranger, $"{path}/show"), HttpStatusCode.Forbidden);

        var after = Assert.Single(await RowsAsync(provider.PublicKeyHex));
        Assert.Equal(before.ETag, after.ETag);
        Assert.Equal("Small VM", after.Name);
        Assert.False(after.Hidden);
    }

    [Fact]
    public async Task An_invalid_update_is_a_400_and_the_offering_stays_unchanged()
    {
        await OnboardAsync(provider);
        var created = await CreatedAsync(Spec());
        var before = Assert.Single(await RowsAsync(provider.PublicKeyHex));

        var response = await UpdateAsync(provider, provider.PublicKeyHex, created.Id, Spec(new string('n', 101)));

        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("name", out _));
        Assert.Equal(before.ETag, Assert.Single(await RowsAsync(provider.PublicKeyHex)).ETag);
    }

    [Fact]
    public async Task Updating_an_unknown_offering_is_a_404_and_writes_nothing()
    {
        await OnboardAsync(provider);

        var response = await UpdateAsync(provider, provider.PublicKeyHex, OfferingStore.NewId(), Spec());

        await ApiAssert.ProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Empty(await RowsAsync(provider.PublicKeyHex));
    }

    [Fact]
    public async Task Search_filters_by_country_price_cpu_ram_and_type()
    {
        await OnboardAsync(provider);
        await CreatedAsync(Spec("de-small"));
        await CreatedAsync(Spec("fr-big") with { Country = "FR", City = "Paris", CpuCores = 16, RamGb = 64, MonthlyPriceMinor = 9000 });
        await CreatedAsync(Spec("de-container") with { ProductType = "container", CpuCores = 1, RamGb = 1, MonthlyPriceMinor = 300 });
        await CreatedAsync(Spec("out-of-stock") with { Stock = 0 });

        Assert.Equal(["de-container", "de-small", "fr-big"], await SearchNamesAsync(""));
        Assert.Equal(["de-container", "de-small"], await SearchNamesAsync("country=DE"));
        Assert.Equal(["fr-big"], await SearchNamesAsync("country=FR"));
        Assert.Equal(["de-small", "fr-big"], await SearchNamesAsync("minPrice=1000"));
        Assert.Equal(["de-container", "de-small"], await SearchNamesAsync("maxPrice=1500"));
        Assert.Equal(["de-small"], await SearchNamesAsync("minPrice=1000&maxPrice=1500"));
        Assert.Equal(["de-small", "fr-big"], await SearchNamesAsync("minCpu=2"));
        Assert.Equal(["fr-big"], await SearchNamesAsync("minRamGb=32"));
        Assert.Equal(["de-container"], await SearchNamesAsync("type=container"));
        Assert.Empty(await SearchNamesAsync("type=baremetal"));
    }

    [Fact]
    public async Task Paging_returns_every_visible_offering_exactly_once_and_leaves_out_hidden_ones()
    {
        await OnboardAsync(provider);
        await OnboardAsync(stranger);
        var expected = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            expected.Add((await CreatedAsync(Spec($"offering-{i}"))).Id);
        }

        using (var client = app.SignedBy(stranger))
        {
            var response = await client.PostAsJsonAsync($"api/v1/providers/{stranger.PublicKeyHex}/offerings", Spec("stranger-offering"));
            expected.Add((await response.Content.ReadFromJsonAsync<OfferingView>())!.Id);
        }

        var hidden = await CreatedAsync(Spec("hidden"));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(provider, $"api/v1/providers/{provider.PublicKeyHex}/offerings/{hidden.Id}/hide")).StatusCode);

        var seen = new List<string>();
        var pages = 0;
        string? next = null;
        do
        {
            var page = await SearchAsync(next is null ? "pageSize=2" : $"pageSize=2&continuation={next}");
            Assert.True(page.Items.Count <= 2);
            seen.AddRange(page.Items.Select(o => o.Id));
            next = page.Next;
            pages++;
        }
        while (next is not null && pages < 20);

        Assert.Null(next);
        Assert.True(pages >= 3, $"{pages} pages");
        Assert.Equal(expected.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("country=Germany", "country")]
    [InlineData("country=de", "country")]
    [InlineData("minPrice=cheap", "minPrice")]
    [InlineData("maxPrice=-1", "maxPrice")]
    [InlineData("minCpu=0", "minCpu")]
    [InlineData("minRamGb=lots", "minRamGb")]
    [InlineData("type=vps", "type")]
    [InlineData("pageSize=101", "pageSize")]
    [InlineData("continuation=%21%21not-a-token", "continuation")]
    [InlineData("country=DE'%20or%20'1'%20eq%20'1", "country")]
    public async Task A_malformed_search_parameter_is_a_400_naming_it(string query, string parameter)
    {
        var response = await app.Client.GetAsync($"api/v1/offerings?{query}");

        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(parameter, out _), parameter);
    }

    [Fact]
    public async Task A_price_filter_without_a_currency_is_a_400_naming_currency()
    {
        var response = await app.Client.GetAsync("api/v1/offerings?minPrice=100");

        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("currency", out _));
    }

    [Fact]
    public async Task Reading_an_unknown_offering_is_a_404_problem()
    {
        var response = await app.Client.GetAsync($"api/v1/providers/{provider.PublicKeyHex}/offerings/{OfferingStore.NewId()}");

        await ApiAssert.ProblemAsync(response, HttpStatusCode.NotFound);
    }
}
