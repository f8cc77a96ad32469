namespace DecentCloud.Agent;

/// <summary>
/// The folder of the config file (the current directory when there is none): every relative file path in the settings,
/// the agent's own and each provisioner's (TLS files, token files), is taken from here, so a config reads the same
/// wherever the agent is started from.
/// </summary>
internal sealed record AgentConfigFolder(string Path)
{
    public string Resolve(string path) => System.IO.Path.GetFullPath(path, Path);

    /// <summary>The folder the app registered; the current directory for services made without one (a bare test container).</summary>
    public static AgentConfigFolder Of(IServiceProvider services) =>
        services.GetService(typeof(AgentConfigFolder)) as AgentConfigFolder ?? new AgentConfigFolder(Directory.GetCurrentDirectory());
}
