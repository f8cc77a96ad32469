namespace DecentCloud.Agent.Commands;

/// <summary>A command's arguments: positional words and <c>--name value</c> options (every option takes a value).</summary>
internal sealed class CommandArgs
{
    private readonly Dictionary<string, string> options;

    private CommandArgs(IReadOnlyList<string> positional, Dictionary<string, string> options, string? error)
    {
        Positional = positional;
        this.options = options;
        Error = error;
    }

    public IReadOnlyList<string> Positional { get; }

    /// <summary>Why the command line cannot be used (an option without a value, or given twice); null when it can.</summary>
    public string? Error { get; }

    public string? ConfigPath => Get("config");

    public static CommandArgs Parse(IReadOnlyList<string> args)
    {
        var positional = new List<string>();
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) && arg != "-c")
            {
                positional.Add(arg);
                continue;
            }

            var name = arg == "-c" ? "config" : arg[2..];
            if (i + 1 == args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                return new CommandArgs(positional, options, $"{arg} needs a value");
            }
            if (!options.TryAdd(name, args[++i]))
            {
                return new CommandArgs(positional, options, $"{arg} is given more than once");
            }
        }
        return new CommandArgs(positional, options, null);
    }

    public string? Get(string name) => options.GetValueOrDefault(name);

    /// <summary>The options given that are not in <paramref name="known"/>: a typo must not be ignored.</summary>
    public IEnumerable<string> Unknown(params string[] known) => options.Keys.Where(name => !known.Contains(name, StringComparer.Ordinal));
}
