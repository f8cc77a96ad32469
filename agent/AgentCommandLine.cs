namespace DecentCloud.Agent;

internal enum AgentAction
{
    Run,
    Help,
    Version,
    Invalid,
}

/// <summary>dc-agent's command line: <c>--help</c>, <c>--version</c>, or run with an optional <c>--config path</c>.</summary>
internal sealed record AgentCommandLine(AgentAction Action, string? ConfigPath = null, string? Error = null)
{
    public static AgentCommandLine Parse(IReadOnlyList<string> args)
    {
        string? configPath = null;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "-h" or "--help":
                    return new(AgentAction.Help);
                case "--version":
                    return new(AgentAction.Version);
                case "-c" or "--config":
                    if (configPath is not null)
                    {
                        return Invalid("--config is given more than once");
                    }
                    if (i + 1 == args.Count || string.IsNullOrWhiteSpace(args[i + 1]))
                    {
                        return Invalid("--config needs a file path");
                    }
                    configPath = args[++i];
                    break;
                default:
                    return Invalid($"unknown argument '{args[i]}'");
            }
        }
        return new(AgentAction.Run, configPath);
    }

    private static AgentCommandLine Invalid(string error) => new(AgentAction.Invalid, Error: error);
}
