using System.Text.Json;

namespace DecentCloud.Agent.State;

/// <summary>
/// The state file. Every change is a read-modify-write under a lock file (the daemon and a <c>manual complete</c> in
/// another process share it), written to a temporary file, flushed to disk and renamed over the old one, so a crash
/// leaves either the old state or the new one, never half of either.
/// </summary>
internal sealed class AgentStateStore(string path)
{
    private static readonly TimeSpan LockPatience = TimeSpan.FromSeconds(30);

    public string Path { get; } = path;

    public async Task<AgentState> ReadAsync(CancellationToken cancellationToken)
    {
        await using var held = await LockAsync(cancellationToken);
        return await ReadUnlockedAsync(cancellationToken);
    }

    /// <summary>Applies <paramref name="change"/> to the current state and writes the result; returns it.</summary>
    public async Task<AgentState> UpdateAsync(Func<AgentState, AgentState> change, CancellationToken cancellationToken)
    {
        await using var held = await LockAsync(cancellationToken);
        var next = change(await ReadUnlockedAsync(cancellationToken));
        await WriteUnlockedAsync(next, cancellationToken);
        return next;
    }

    public Task<AgentState> PutAsync(ContractRecord record, CancellationToken cancellationToken) =>
        UpdateAsync(state => state with { Contracts = new(state.Contracts, StringComparer.Ordinal) { [record.ContractId] = record } }, cancellationToken);

    public Task<AgentState> RemoveAsync(string contractId, CancellationToken cancellationToken) =>
        UpdateAsync(state =>
        {
            var contracts = new Dictionary<string, ContractRecord>(state.Contracts, StringComparer.Ordinal);
            contracts.Remove(contractId);
            return state with { Contracts = contracts };
        }, cancellationToken);

    private async Task<AgentState> ReadUnlockedAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Path))
        {
            return new AgentState();
        }

        await using var file = File.OpenRead(Path);
        try
        {
            var state = await JsonSerializer.DeserializeAsync<AgentState>(file, AgentState.Json, cancellationToken)
                ?? throw new InvalidDataException($"The state file '{Path}' holds null.");
            if (state.Version != AgentState.CurrentVersion)
            {
                throw new InvalidDataException($"The state file '{Path}' is of version {state.Version}; this dc-agent reads version {AgentState.CurrentVersion}.");
            }
            return state with { Contracts = new(state.Contracts, StringComparer.Ordinal) };
        }
        catch (JsonException ex)
        {
            // Never start over from an empty state: that could provision a contract a second time.
            throw new InvalidDataException($"The state file '{Path}' is not valid; fix or move it by hand (an empty state could provision contracts twice).", ex);
        }
    }

    private async Task WriteUnlockedAsync(AgentState state, CancellationToken cancellationToken)
    {
        var temporary = $"{Path}.{Environment.ProcessId}.tmp";
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            await JsonSerializer.SerializeAsync(file, state, AgentState.Json, cancellationToken);
            await file.FlushAsync(cancellationToken);
            file.Flush(flushToDisk: true);
        }
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        File.Move(temporary, Path, overwrite: true);
    }

    private async Task<FileStream> LockAsync(CancellationToken cancellationToken)
    {
        var directory = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var deadline = DateTime.UtcNow + LockPatience;
        while (true)
        {
            try
            {
                // FileShare.None: a second process (or caller) cannot open the lock file until this one closes it.
                return new FileStream(Path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
            }
        }
    }
}
