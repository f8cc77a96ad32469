using System.Net;
using System.Net.Http.Json;
using Azure.Data.Tables;
using DecentCloud.Functions.Operations;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Hosting;

/// <summary>The audit trail of admin actions, on one app for the class (its tests read what the app recorded, not what it keeps in memory).</summary>
public sealed class AdminAuditTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private readonly TestFunctionApp app = fixture.App;

    private static HttpRequestMessage Admin(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("x-functions-key", TestKeys.Master);
        return request;
    }

    [Fact]
    public async Task Every_admin_action_is_recorded_with_who_what_and_when_and_listed_newest_first()
    {
        var before = DateTimeOffset.UtcNow;

        await app.Client.SendAsync(Admin("api/v1/admin/queues"));
        await app.Client.SendAsync(Admin("api/v1/admin/queues/no-such-queue/poison"));
        var response = await app.Client.SendAsync(Admin("api/v1/admin/actions"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var actions = (await response.Content.ReadFromJsonAsync<List<AdminAction>>())!;
        Assert.Equal(["list-poison", "list-queues"], actions.Take(2).Select(a => a.Action).ToArray());
        Assert.All(actions, a => Assert.Equal("master", a.Caller));
        Assert.All(actions, a => Assert.InRange(a.At, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1)));
        Assert.Equal("no-such-queue", actions[0].Target);
        Assert.Equal("unknown queue", actions[0].Outcome);
        Assert.False(string.IsNullOrEmpty(actions[0].TraceId));

        // The listing is itself an admin action, in the table as well.
        var rows = new TableClient(fixture.ConnectionString, AdminAudit.TableName).Query<TableEntity>().ToList();
        Assert.Contains(rows, r => r.GetString("Action") == "list-admin-actions" && r.GetString("Caller") == "master");
    }

    [Theory]
    [InlineData("api/v1/admin/actions?month=2026-13", "month")]
    [InlineData("api/v1/admin/actions?month=november", "month")]
    [InlineData("api/v1/admin/actions?limit=0", "limit")]
    public async Task A_bad_audit_query_is_a_400_naming_the_parameter(string path, string parameter)
    {
        var response = await app.Client.SendAsync(Admin(path));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(parameter, out _));
    }

    [Fact]
    public async Task The_audit_trail_needs_the_master_key()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/admin/actions");
        request.Headers.Add("x-functions-key", TestKeys.Host);

        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
