using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using DecentCloud.Agent;
using Xunit.Abstractions;

namespace DecentCloud.Tests.EndToEnd;

/// <summary>
/// A real dc-agent process, started as a provider starts it: <c>dotnet dc-agent.dll run --config {file}</c>, and the
/// one-shot commands (<c>manual complete</c>, <c>manual terminated</c>...) as processes of the same dll. Its output lines
/// are kept and written to the test's output when it is disposed.
/// </summary>
internal sealed class AgentProcess : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private readonly Process process;
    private readonly ITestOutputHelper? output;
    private readonly string name;
    private readonly ConcurrentQueue<string> lines = new();

    private AgentProcess(Process process, string name, ITestOutputHelper? output)
    {
        this.process = process;
        this.name = name;
        this.output = output;
    }

    /// <summary>The agent's dll: the one built beside the tests (the test project references the agent).</summary>
    public static string AgentDll { get; } = typeof(AgentLoop).Assembly.Location;

    public IReadOnlyCollection<string> Lines => lines;

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    /// <summary>Starts <c>dc-agent run --config {home's config}</c>.</summary>
    public static AgentProcess Run(AgentHome home, string name, ITestOutputHelper? output = null)
    {
        var agent = new AgentProcess(new Process { StartInfo = StartInfo(["run", "--config", home.ConfigFile]) }, name, output);
        agent.process.OutputDataReceived += (_, e) => agent.OnLine(e.Data);
        agent.process.ErrorDataReceived += (_, e) => agent.OnLine(e.Data);
        agent.process.Start();
        agent.process.BeginOutputReadLine();
        agent.process.BeginErrorReadLine();
        return agent;
    }

    /// <summary>Runs a dc-agent command to its end (<c>manual complete ...</c>) with the home's config; its exit code and output.</summary>
    public static async Task<CommandResult> CommandAsync(AgentHome home, params string[] arguments)
    {
        using var process = new Process { StartInfo = StartInfo([.. arguments, "--config", home.ConfigFile]) };
        process.Start();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(CommandTimeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new CommandResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Like <see cref="CommandAsync"/>, failing the test unless the command exits 0.</summary>
    public static async Task<CommandResult> SucceedAsync(AgentHome home, params string[] arguments)
    {
        var result = await CommandAsync(home, arguments);
        Assert.True(result.ExitCode == 0, $"dc-agent {string.Join(' ', arguments)} exited {result.ExitCode}:\n{result.Stdout}\n{result.Stderr}");
        return result;
    }

    /// <summary>SIGKILL: the machine went away; the agent gets to do nothing more, not even finish a write.</summary>
    public async Task KillAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as systemd stops it; answers its exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (!process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }

        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return process.ExitCode;
    }

    /// <summary>Whether the agent logged a line with all of <paramref name="parts"/>.</summary>
    public bool Logged(params string[] parts) => lines.Any(line => parts.All(part => line.Contains(part, StringComparison.Ordinal)));

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        if (output is not null)
        {
            foreach (var line in lines)
            {
                try
                {
                    output.WriteLine($"[{name}] {line}");
                }
                catch (InvalidOperationException)
                {
                    // The test has ended already (disposed from a fixture): its output cannot take lines any more.
                    break;
                }
            }
        }

        process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is not null)
        {
            lines.Enqueue(line);
        }
    }

    private static ProcessStartInfo StartInfo(string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(AgentDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The agent reads DC_AGENT_* variables over its config file: none of the test run's may leak into it.
        foreach (var variable in start.Environment.Keys.Where(k => k.StartsWith("DC_AGENT_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(variable);
        }

        return start;
    }
}

internal sealed record CommandResult(int ExitCode, string Stdout, string Stderr);
