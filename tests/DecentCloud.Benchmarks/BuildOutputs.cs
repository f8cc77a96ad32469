using System.Reflection;
using DecentCloud.Testing;

namespace DecentCloud.Benchmarks;

/// <summary>
/// The two apps the start-up benchmark starts: the function app's and the bare app's DLLs, as this
/// project's build just built them (both are project references, so they are built in its configuration).
/// </summary>
internal sealed record BuildOutputs(string Configuration, string FunctionsDll, string BareAppDll)
{
    public static BuildOutputs Locate()
    {
        var configuration = Metadata("BuildConfiguration");
        var framework = Metadata("TargetFramework");
        if (!string.Equals(configuration, "Release", StringComparison.Ordinal))
        {
            throw new BenchmarkException(
                $"this benchmark was built {configuration}; the figures are only meaningful for Release builds. " +
                "Run it with: dotnet run -c Release --project tests/DecentCloud.Benchmarks");
        }

        var functions = Path.Combine(RepositoryRoot.Path, "functions", "bin", configuration, framework, "DecentCloud.Functions.dll");
        var bare = Path.Combine(RepositoryRoot.Path, "tests", "DecentCloud.Benchmarks.BareApp", "bin", configuration, framework, "BareApp.dll");
        foreach (var dll in new[] { functions, bare })
        {
            if (!File.Exists(dll))
            {
                throw new BenchmarkException($"{dll} is not there; build the benchmark with dotnet build -c Release (it builds both apps).");
            }
        }

        return new BuildOutputs(configuration, functions, bare);
    }

    private static string Metadata(string key) =>
        typeof(BuildOutputs).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(attribute => attribute.Key == key)?.Value
        ?? throw new BenchmarkException($"The benchmark's assembly has no {key} metadata; see DecentCloud.Benchmarks.csproj.");
}
