using System.Net;
using System.Net.Http.Json;
using Azure.Data.Tables;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Marketplace.Offerings;
using DecentCloud.Functions.Marketplace.Providers;
using DecentCloud.Shared.Signing;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Marketplace;

public sealed class ContractEndpointTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private const string SshKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM4SmLjN+5JbpBnwySSw+qstvbT+B1vz4L3vuwXZ2/hR alice@laptop";

    private readonly Ed25519phKey provider = Ed25519phKey.Generate();
    private readonly Ed25519phKey renter = Ed25519phKey.Generate();
    private readonly Ed25519phKey stranger = Ed25519phKey.Generate();
    private readonly TestFunctionApp app = fixture.App;

    private TableClient Contracts => app.Services.GetRequiredService<ContractStore>().Table;

    // 1500 minor units a month, 24 to 720 hours.
    private static OfferingSpec Spec() =>
        new("Small VM", "vm", 2, 4, 80, null, 1000, "DE", "Frankfurt", 1500, "EUR", 24, 720, "hetzner", "kv://hetzner/fsn1", 10);

    private async Task<string> OfferingAsync()
    {
        using var client = app.SignedBy(provider);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("api/v1/providers",
            new ProviderProfile("Acme Cloud", null, null, "support@acme.example", ["eu-central"], null, null))).StatusCode);
        var created = await client.PostAsJsonAsync($"api/v1/providers/{provider.PublicKeyHex}/offerings", Spec());
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<OfferingView>())!.Id;
    }

    private async Task<HttpResponseMessage> RentAsync(string offeringId, int? hours = null)
    {
        using var client = app.SignedBy(renter);
        return await client.PostAsJsonAsync("api/v1/contracts", new { providerPubkey = provider.PublicKeyHex, offeringId, hours, sshKey = SshKey, memo = "test" });
    }

    private async Task<ContractView> RentedAsync(string offeringId)
    {
        var response = await RentAsync(offeringId);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ContractView>())!;
    }

    private async Task<HttpResponseMessage> PostAsync(Ed25519phKey signer, string path)
    {
        using var client = app.SignedBy(signer);
        return await client.PostAsync(path, null);
    }

    private async Task<HttpResponseMessage> GetAsync(Ed25519phKey signer, string path)
    {
        using var client = app.SignedBy(signer);
        return await client.GetAsync(path);
    }

    private async Task<List<TableEntity>> RowsAsync(string id)
    {
        await Contracts.CreateIfNotExistsAsync();
        return await Contracts.QueryAsync<TableEntity>(e => e.PartitionKey == id).ToListAsync();
    }

    private async Task<List<ContractMoveEntity>> MovesAsync(string id) =>
        await app.Services.GetRequiredService<ContractStore>().MovesAsync(id, CancellationToken.None);

    private async Task<List<TableEntity>> RentersRowsAsync()
    {
        await Contracts.CreateIfNotExistsAsync();
        return await Contracts.QueryAsync<TableEntity>(e => e.GetString("RenterKey") == renter.PublicKeyHex).ToListAsync();
    }

    [Fact]
    public async Task Renting_an_offering_is_a_201_with_the_price_for_the_hours_in_state_requested()
    {
        var offeringId = await OfferingAsync();

        var response = await RentAsync(offeringId, hours: 100);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var contract = (await response.Content.ReadFromJsonAsync<ContractView>())!;
        Assert.Equal($"/api/v1/contracts/{contract.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal(209L, contract.PriceMinor); // ceiling(1500 × 100 / 720) = ceiling(208.33)
        Assert.Equal(100, contract.Hours);
        Assert.Equal("EUR", contract.Currency);
        Assert.Equal("requested", contract.State);
        Assert.False(contract.PaymentSucceeded);
        Assert.Equal(renter.PublicKeyHex, contract.RenterPublicKey);
        Assert.Equal(provider.PublicKeyHex, contract.ProviderPublicKey);
        var row = Assert.Single(await RowsAsync(contract.Id));
        Assert.Equal(ContractEntity.ContractRowKey, row.RowKey);
        Assert.Equal("requested", row.GetString("State"));

        var month = (await (await RentAsync(offeringId)).Content.ReadFromJsonAsync<ContractView>())!;
        Assert.Equal(1500L, month.PriceMinor);
        Assert.Equal(720, month.Hours);
    }

    [Fact]
    public async Task Renting_below_the_offerings_minimum_hours_is_a_400_naming_hours()
    {
        var offeringId = await OfferingAsync();

        var problem = await ApiAssert.ProblemAsync(await RentAsync(offeringId, hours: 10), HttpStatusCode.BadRequest);

        Assert.True(problem.GetProperty("errors").TryGetProperty("hours", out _));
        Assert.Empty(await RentersRowsAsync());
    }

    [Fact]
    public async Task Renting_an_unknown_offering_is_a_404()
    {
        await OfferingAsync();

        await ApiAssert.ProblemAsync(await RentAsync(ContractStore.NewId()), HttpStatusCode.NotFound);
        Assert.Empty(await RentersRowsAsync());
    }

    [Fact]
    public async Task Unsigned_renting_is_a_401_and_writes_nothing()
    {
        var offeringId = await OfferingAsync();

        var response = await app.Client.PostAsJsonAsync("api/v1/contracts", new { providerPubkey = provider.PublicKeyHex, offeringId, sshKey = SshKey });

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Empty(await RentersRowsAsync());
    }

    [Fact]
    public async Task The_renter_and_the_provider_read_the_contract_and_a_stranger_gets_403()
    {
        var contract = await RentedAsync(await OfferingAsync());
        var path = $"api/v1/contracts/{contract.Id}";

        foreach (var party in new[] { renter, provider })
        {
            var response = await GetAsync(party, path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(contract, await response.Content.ReadFromJsonAsync<ContractView>());
        }

        await ApiAssert.ProblemAsync(await GetAsync(stranger, path), HttpStatusCode.Forbidden);
        await ApiAssert.ProblemAsync(await GetAsync(renter, $"api/v1/contracts/{ContractStore.NewId()}"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_provider_accepts_with_a_history_row_accepting_again_is_409_and_the_renter_cancels_after()
    {
        var contract = await RentedAsync(await OfferingAsync());
        var path = $"api/v1/contracts/{contract.Id}";

        var accepted = await PostAsync(provider, $"{path}/accept");

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal("accepted", (await accepted.Content.ReadFromJsonAsync<ContractView>())!.State);
        var move = Assert.Single(await MovesAsync(contract.Id));
        Assert.Equal(("requested", "accepted", provider.PublicKeyHex), (move.From, move.To, move.By));

        var again = await ApiAssert.ProblemAsync(await PostAsync(provider, $"{path}/accept"), HttpStatusCode.Conflict);
        Assert.Contains("accepted", again.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Single(await MovesAsync(contract.Id));

        var cancelled = await PostAsync(renter, $"{path}/cancel");
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal("cancelled", (await cancelled.Content.ReadFromJsonAsync<ContractView>())!.State);
        var moves = await MovesAsync(contract.Id);
        Assert.Equal(["cancelled", "accepted"], moves.Select(m => m.To));
    }

    [Fact]
    public async Task Moves_by_the_wrong_party_are_403_and_write_nothing()
    {
        var contract = await RentedAsync(await OfferingAsync());
        var path = $"api/v1/contracts/{contract.Id}";

        await ApiAssert.ProblemAsync(await PostAsync(renter, $"{path}/reject"), HttpStatusCode.Forbidden);
        await ApiAssert.ProblemAsync(await PostAsync(renter, $"{path}/accept"), HttpStatusCode.Forbidden);
        await ApiAssert.ProblemAsync(await PostAsync(provider, $"{path}/cancel"), HttpStatusCode.Forbidden);
        await ApiAssert.ProblemAsync(await PostAsync(stranger, $"{path}/cancel"), HttpStatusCode.Forbidden);

        var row = Assert.Single(await RowsAsync(contract.Id));
        Assert.Equal("requested", row.GetString("State"));
    }

    [Fact]
    public async Task The_provider_rejects_and_the_contract_is_terminal()
    {
        var contract = await RentedAsync(await OfferingAsync());
        var path = $"api/v1/contracts/{contract.Id}";

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(provider, $"{path}/reject")).StatusCode);

        var problem = await ApiAssert.ProblemAsync(await PostAsync(renter, $"{path}/cancel"), HttpStatusCode.Conflict);
        Assert.Contains("rejected", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Single(await MovesAsync(contract.Id));
    }

    [Fact]
    public async Task Of_a_concurrent_reject_and_cancel_exactly_one_wins_and_the_loser_is_409()
    {
        var offeringId = await OfferingAsync();
        for (var i = 0; i < 5; i++)
        {
            var contract = await RentedAsync(offeringId);
            var path = $"api/v1/contracts/{contract.Id}";

            // Both targets are terminal, so whichever order the requests land in, one move wins and the other is refused.
            var responses = await Task.WhenAll(PostAsync(provider, $"{path}/reject"), PostAsync(renter, $"{path}/cancel"));

            Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
            var loser = Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Conflict);
            var move = Assert.Single(await MovesAsync(contract.Id));
            var problem = await ApiAssert.ProblemAsync(loser, HttpStatusCode.Conflict);
            Assert.Contains(move.To, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            var row = (await RowsAsync(contract.Id)).Single(r => r.RowKey == ContractEntity.ContractRowKey);
            Assert.Equal(move.To, row.GetString("State"));
        }
    }

    [Fact]
    public async Task Of_two_concurrent_accepts_exactly_one_wins()
    {
        var offeringId = await OfferingAsync();
        for (var i = 0; i < 5; i++)
        {
            var contract = await RentedAsync(offeringId);
            var path = $"api/v1/contracts/{contract.Id}/accept";

            var responses = await Task.WhenAll(PostAsync(provider, path), PostAsync(provider, path));

            Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
            Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Conflict);
            Assert.Single(await MovesAsync(contract.Id));
        }
    }

    [Fact]
    public async Task A_concurrent_accept_and_cancel_never_lose_a_move_and_history_matches_the_state()
    {
        var offeringId = await OfferingAsync();
        for (var i = 0; i < 5; i++)
        {
            var contract = await RentedAsync(offeringId);
            var path = $"api/v1/contracts/{contract.Id}";

            // If they overlap, one wins and the other is a 409; if the accept lands first, the cancel may follow it legally.
            var responses = await Task.WhenAll(PostAsync(provider, $"{path}/accept"), PostAsync(renter, $"{path}/cancel"));

            Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Conflict }));
            var wins = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
            Assert.InRange(wins, 1, 2);
            var moves = await MovesAsync(contract.Id);
            Assert.Equal(wins, moves.Count);
            var row = (await RowsAsync(contract.Id)).Single(r => r.RowKey == ContractEntity.ContractRowKey);
            Assert.Equal(moves[0].To, row.GetString("State"));
        }
    }
}
