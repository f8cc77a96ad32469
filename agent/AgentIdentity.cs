using DecentCloud.Shared.Signing;

namespace DecentCloud.Agent;

/// <summary>The agent's own signing key, read from <c>agent_key_file</c>.</summary>
internal sealed class AgentIdentity(Ed25519phKey key)
{
    public Ed25519phKey Key { get; } = key;

    public string AgentPubkey => Key.PublicKeyHex;

    /// <exception cref="InvalidDataException">The file is missing, unreadable or does not hold a key seed.</exception>
    public static AgentIdentity Load(string keyFile)
    {
        try
        {
            return new AgentIdentity(ReadKey(keyFile));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"cannot read the agent key file '{keyFile}': {ex.Message} (dc-agent init writes one)", ex);
        }
    }

    /// <summary>A key file holds the 32-byte seed as 64 hex characters (what <c>dc-agent keygen</c> and <c>init</c> write).</summary>
    public static Ed25519phKey ReadKey(string keyFile) => Ed25519phKey.FromSeedHex(File.ReadAllText(keyFile).Trim());

    /// <summary>Writes a new key to a file only its owner can read; never overwrites one.</summary>
    public static Ed25519phKey CreateKeyFile(string keyFile)
    {
        var key = Ed25519phKey.Generate();
        var directory = Path.GetDirectoryName(Path.GetFullPath(keyFile));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            // Created with mode 600 from the start: there is no moment when others could read it.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var file = new FileStream(keyFile, options))
        using (var writer = new StreamWriter(file))
        {
            writer.WriteLine(key.ExportSeedHex());
        }
        return key;
    }
}
