using DecentCloud.Agent.State;

namespace DecentCloud.Tests.Agent;

// The agent runs on Linux (docs/agent.md); these tests check Unix file modes.
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class AgentStateStoreTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("dc-agent-state-");

    private string StatePath => Path.Combine(folder.FullName, "state.json");

    public void Dispose() => folder.Delete(recursive: true);

    private static ContractRecord Record(string id, ContractPhase phase) =>
        new() { ContractId = id, RenterPubkey = "ab", Phase = phase, UpdatedAt = DateTimeOffset.UnixEpoch };

    [Fact]
    public async Task What_one_store_wrote_a_new_store_reads_back_as_after_a_restart()
    {
        await new AgentStateStore(StatePath).PutAsync(Record("c-1", ContractPhase.ReportPending), CancellationToken.None);

        var restarted = await new AgentStateStore(StatePath).ReadAsync(CancellationToken.None);

        Assert.Equal(ContractPhase.ReportPending, restarted.Contracts["c-1"].Phase);
        Assert.Equal(["state.json", "state.json.lock"], folder.GetFiles().Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(StatePath));
    }

    [Fact]
    public async Task Changes_from_two_stores_at_once_are_all_kept()
    {
        var first = new AgentStateStore(StatePath);
        var second = new AgentStateStore(StatePath);

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            Task.Run(() => (i % 2 == 0 ? first : second).PutAsync(Record($"c-{i}", ContractPhase.Waiting), CancellationToken.None))));

        Assert.Equal(20, (await first.ReadAsync(CancellationToken.None)).Contracts.Count);
    }

    [Fact]
    public async Task A_damaged_state_file_stops_the_agent_rather_than_starting_empty()
    {
        File.WriteAllText(StatePath, "{\"version\":1,\"contracts\":{\"c-1\":");

        var refused = await Assert.ThrowsAsync<InvalidDataException>(() => new AgentStateStore(StatePath).ReadAsync(CancellationToken.None));

        Assert.Contains("could provision contracts twice", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_state_file_never_written_reads_as_empty()
    {
        var state = await new AgentStateStore(StatePath).ReadAsync(CancellationToken.None);

        Assert.Empty(state.Contracts);
        Assert.Null(state.LastHeartbeatAt);
    }
}
