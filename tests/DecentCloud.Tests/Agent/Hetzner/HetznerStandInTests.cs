using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace DecentCloud.Tests.Agent.Hetzner;

/// <summary>The stand-in itself: it notices requests that break the spec, and answers in the API's shapes.</summary>
public sealed class HetznerStandInTests : IAsyncLifetime, IDisposable
{
    private HetznerStandIn standIn = null!;
    private HttpClient http = null!;

    public async Task InitializeAsync()
    {
        standIn = await HetznerStandIn.StartAsync();
        http = new HttpClient { BaseAddress = standIn.BaseUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", HetznerStandIn.Token);
    }

    public async Task DisposeAsync() => await standIn.DisposeAsync();

    public void Dispose() => http.Dispose();

    [Fact]
    public async Task A_body_with_an_unknown_member_a_wrong_type_or_a_missing_required_member_is_a_violation()
    {
        using var body = new StringContent("""{"name":"web-1","image":"ubuntu-24.04","sshkeys":["1"],"labels":{"team":1},"start_after_create":"yes"}""", Encoding.UTF8, "application/json");

        using var response = await http.PostAsync("servers", body);

        Assert.Contains("POST /servers: body: the required member 'server_type' is missing", standIn.Violations);
        Assert.Contains("POST /servers: body.sshkeys: not a member of this object in the spec", standIn.Violations);
        Assert.Contains("POST /servers: body.labels.team: integer 1 where the spec says string", standIn.Violations);
        Assert.Contains("POST /servers: body.start_after_create: string \"yes\" where the spec says boolean", standIn.Violations);
    }

    [Fact]
    public async Task Unknown_query_parameters_bad_values_unknown_operations_and_missing_bodies_are_violations()
    {
        (await http.GetAsync("servers?pagee=2&status=sleeping&per_page=ten")).Dispose();
        (await http.GetAsync("servers/abc")).Dispose();
        (await http.DeleteAsync("servers")).Dispose();
        (await http.PostAsync("ssh_keys", content: null)).Dispose();

        Assert.Equal(
            [
                "GET /servers: query parameter status: 'sleeping' is not one of [\"running\",\"initializing\",\"starting\",\"stopping\",\"off\",\"deleting\",\"migrating\",\"rebuilding\",\"unknown\"]",
                "GET /servers: query parameter per_page: 'ten' is not an integer",
                "GET /servers: query parameter pagee is not a parameter of list_servers",
                "GET /servers/abc: path parameter id: 'abc' is not an integer",
                "DELETE /servers: no such operation in the spec subset",
                "POST /ssh_keys: create_ssh_key needs a JSON body",
            ],
            standIn.Violations);
    }

    [Fact]
    public async Task Errors_come_in_the_apis_shape_with_the_rate_limit_headers_and_a_read_only_token_may_only_read()
    {
        using var readOnly = new HttpRequestMessage(HttpMethod.Delete, "ssh_keys/5");
        readOnly.Headers.Authorization = new AuthenticationHeaderValue("Bearer", HetznerStandIn.ReadOnlyToken);
        using var refused = await http.SendAsync(readOnly);
        using var missing = await http.GetAsync("servers/77");
        standIn.Inject("GET", "/servers", new HetznerFault.RateLimited());
        using var limited = await http.GetAsync("servers");
        // The bucket refills one request a second: until then every request is refused too.
        using var next = await http.GetAsync("locations");

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("3600", limited.Headers.GetValues("RateLimit-Limit").Single());
        Assert.Equal("0", limited.Headers.GetValues("RateLimit-Remaining").Single());
        Assert.True(long.Parse(limited.Headers.GetValues("RateLimit-Reset").Single(), System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.Equal("rate_limit_exceeded", await Code(limited));
        Assert.Equal((HttpStatusCode.TooManyRequests, "rate_limit_exceeded"), (next.StatusCode, await Code(next)));
        Assert.Equal((HttpStatusCode.Unauthorized, "token_readonly"), (refused.StatusCode, await Code(refused)));
        Assert.Equal((HttpStatusCode.NotFound, "not_found"), (missing.StatusCode, await Code(missing)));
        Assert.Empty(standIn.Violations);
    }

    private static async Task<string?> Code(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString();
}
