using System.Buffers.Text;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Hosting;

/// <summary>
/// The admin endpoints over the task hub refusing what they cannot answer: unknown instances, missing keys, bad query
/// values. These start and change no instance, so the class shares one app (OrchestrationAdminTests, whose tests run
/// orchestrations, starts one for each test).
/// </summary>
public sealed class OrchestrationAdminRefusalTests(AppFixture fixture) : IClassFixture<AppFixture>, IDisposable
{
    private HttpClient Admin { get; } = AdminClient(fixture.App);

    public void Dispose() => Admin.Dispose();

    private static HttpClient AdminClient(TestFunctionApp app)
    {
        var admin = new HttpClient { BaseAddress = app.Client.BaseAddress };
        admin.DefaultRequestHeaders.Add("x-functions-key", TestKeys.Master);
        return admin;
    }

    [Fact]
    public async Task Unknown_instances_are_404_and_the_endpoints_want_the_master_key()
    {
        await ApiAssert.ProblemAsync(await Admin.GetAsync("api/v1/admin/orchestrations/no-such-instance"), HttpStatusCode.NotFound);
        await ApiAssert.ProblemAsync(await Admin.PostAsync("api/v1/admin/orchestrations/no-such-instance/restart", null), HttpStatusCode.NotFound);
        await ApiAssert.ProblemAsync(await Admin.PostAsJsonAsync("api/v1/admin/orchestrations/no-such-instance/terminate", new { reason = "gone" }), HttpStatusCode.NotFound);
        await ApiAssert.ProblemAsync(await fixture.App.Client.GetAsync("api/v1/admin/orchestrations"), HttpStatusCode.Unauthorized);
        await ApiAssert.ProblemAsync(await fixture.App.Client.GetAsync("api/v1/admin/orchestrations/no-such-instance"), HttpStatusCode.Unauthorized);
        await ApiAssert.ProblemAsync(await fixture.App.Client.PostAsync("api/v1/admin/orchestrations/no-such-instance/restart", null), HttpStatusCode.Unauthorized);
        await ApiAssert.ProblemAsync(await fixture.App.Client.PostAsJsonAsync("api/v1/admin/orchestrations/no-such-instance/terminate", new { reason = "gone" }), HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("?status=Bogus", "status")]
    [InlineData("?status=3", "status")]
    [InlineData("?status=Running,Finished", "status")]
    [InlineData("?pageSize=0", "pageSize")]
    [InlineData("?pageSize=501", "pageSize")]
    [InlineData("?continuation=not*base64", "continuation")]
    public async Task A_bad_query_value_is_a_400_naming_it(string query, string name)
    {
        var problem = await ApiAssert.ProblemAsync(await Admin.GetAsync($"api/v1/admin/orchestrations{query}"), HttpStatusCode.BadRequest);

        Assert.True(problem.GetProperty("errors").TryGetProperty(name, out _), problem.ToString());
    }

    [Fact]
    public async Task A_continuation_the_list_never_gave_is_not_a_server_error()
    {
        var forged = Base64Url.EncodeToString(Encoding.UTF8.GetBytes("not a token the hub gave"));

        using var response = await Admin.GetAsync($"api/v1/admin/orchestrations?continuation={forged}");

        Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }
}
