using System.Globalization;
using System.Net;
using DecentCloud.Tests.Support;
using Xunit.Abstractions;

namespace DecentCloud.Tests.LocalHost;

/// <summary>The local Functions host as a process of its own: what is left when it is killed.</summary>
public sealed class HostProcessTests(AzuriteFixture storage, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Worker_of_a_host_killed_with_SIGKILL_exits_and_a_new_host_on_the_same_storage_and_port_serves()
    {
        var names = SampleNames.Unique();
        await using var first = await HostProcess.StartAsync(storage.ConnectionString, names, output: output);
        using (var greeting = await first.Client.GetAsync("api/greet/first"))
        {
            Assert.Equal(HttpStatusCode.OK, greeting.StatusCode);
        }

        Assert.True(HostProcess.IsRunning(first.WorkerProcessId), "the host's worker runs");

        await first.KillAsync();

        await Eventually.HoldsAsync(() => !HostProcess.IsRunning(first.WorkerProcessId), "the killed host's worker has exited", TimeSpan.FromSeconds(10));
        await using var second = await SampleHost.StartAsync(
            storage.ConnectionString,
            names,
            new Dictionary<string, string?> { ["FUNCTIONS_HTTP_PORT"] = first.BaseAddress.Port.ToString(CultureInfo.InvariantCulture) },
            output);
        using var again = await second.Client.GetAsync("api/greet/second");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }
}
