using System.Text;
using System.Text.Json;
using DecentCloud.Agent;
using DecentCloud.Agent.State;
using DecentCloud.Shared.Signing;

namespace DecentCloud.Tests.EndToEnd;

/// <summary>
/// One dc-agent's folder as a provider sets it up: the agent key (written by the agent's own key code, mode 600), a
/// TOML config (docs/agent.md) pointing at the running app with short intervals, the state file, and a notify command
/// that appends <c>{action} {contract}</c> to <see cref="NotifiedFile"/>, so a test can count the provider's notifications.
/// </summary>
internal sealed class AgentHome : IDisposable
{
    private AgentHome(string directory, Ed25519phKey key)
    {
        Directory = directory;
        Key = key;
    }

    public string Directory { get; }

    public Ed25519phKey Key { get; }

    public string ConfigFile => Path.Combine(Directory, "dc-agent.toml");

    public string StateFile => Path.Combine(Directory, "dc-agent-state.json");

    public string NotifiedFile => Path.Combine(Directory, "notified.txt");

    /// <summary>Writes the key and the config; the delegation is the provider's business (<see cref="EndToEndWorld.DelegateAsync"/>).</summary>
    /// <param name="extraToml">More of the config, appended at its end (a provisioner's section, such as <c>[docker]</c>).</param>
    public static AgentHome Create(Uri apiBaseUrl, string providerPubkey, string name = "agent", string? extraToml = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"dc-e2e-{name}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        var key = AgentIdentity.CreateKeyFile(Path.Combine(directory, "agent.key"));
        var home = new AgentHome(directory, key);
        File.WriteAllText(home.ConfigFile, home.Toml(apiBaseUrl, providerPubkey) + (extraToml ?? ""), new UTF8Encoding(false));
        return home;
    }

    /// <summary>The lines the notify command wrote: <c>provision {id}</c>, <c>terminate {id}</c>.</summary>
    public IReadOnlyList<string> Notified() =>
        File.Exists(NotifiedFile) ? File.ReadAllLines(NotifiedFile).Where(line => line.Length > 0).ToList() : [];

    /// <summary>The agent's state file as it stands (empty before the agent wrote it).</summary>
    public AgentState State() =>
        File.Exists(StateFile) ? JsonSerializer.Deserialize<AgentState>(File.ReadAllText(StateFile), AgentState.Json)! : new AgentState();

    public ContractPhase? PhaseOf(string contractId) => State().Contracts.TryGetValue(contractId, out var record) ? record.Phase : null;

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A process of the test still holding a file: the temporary folder stays behind, nothing else is affected.
        }
    }

    // Intervals of one second: the platform's suggested intervals (AGENT_*_SECONDS of the app) win once the first
    // heartbeat is answered, so these only make the first round run at once.
    private string Toml(Uri apiBaseUrl, string providerPubkey) => $$"""
        api_base_url = "{{apiBaseUrl}}"
        provider_pubkey = "{{providerPubkey}}"
        agent_key_file = "agent.key"
        state_file = "dc-agent-state.json"
        provisioner = "manual"
        poll_interval_seconds = 1
        heartbeat_interval_seconds = 1
        health_check_interval_seconds = 1

        [manual]
        notify_command = ["/bin/sh", "-c", "echo \"$DC_AGENT_ACTION $DC_AGENT_CONTRACT_ID\" >> '{{NotifiedFile}}'"]
        health_check_timeout_seconds = 2

        [Logging.LogLevel]
        Default = "Information"

        """;
}
