using System.Runtime.CompilerServices;

namespace DecentCloud.Tests.Support;

/// <summary>
/// .NET settings for the processes the tests start (the apps' worker processes, dc-agent): they live seconds, not the
/// weeks a worker in Azure does. Profile-guided optimisation instruments code before compiling it a second time, and
/// the runtime re-compiles a method once it has been called 30 times; in a process that short both cost more CPU than
/// they give back (about 0.8 s of a core for each worker, measured from start to healthy plus 8 s). Behaviour is
/// unchanged; only when code is compiled changes. The test process itself, which lives for the whole run, keeps the
/// defaults, and so do the benchmarks, which measure the app as it runs in Azure.
/// </summary>
internal static class ChildProcessRuntime
{
    [ModuleInitializer]
    internal static void Initialize()
    {
        // Child processes inherit the environment; a setting the caller already made wins.
        SetUnlessGiven("DOTNET_TieredPGO", "0");
        SetUnlessGiven("DOTNET_TC_CallCountThreshold", "1000");
    }

    private static void SetUnlessGiven(string name, string value)
    {
        if (Environment.GetEnvironmentVariable(name) is null)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
    }
}
