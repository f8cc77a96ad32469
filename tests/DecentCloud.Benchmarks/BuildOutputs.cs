using System.Reflection;

namespace DecentCloud.Benchmarks;

/// <summary>
/// What the benchmarks run, as this project's build just built it (all are project references, so they are built in its
/// configuration): the function app's and the sample app's output folders, which the local Functions host runs; the
/// host's own DLL, which the start-up benchmark starts as a process; and the bare app's DLL.
/// </summary>
internal sealed record BuildOutputs(string Configuration, string FunctionApp, string SampleApp, string FunctionsHostDll, string BareAppDll)
{
    public static BuildOutputs Locate()
    {
        var configuration = Metadata("BuildConfiguration");
        if (!string.Equals(configuration, "Release", StringComparison.Ordinal))
        {
            throw new BenchmarkException(
                $"this benchmark was built {configuration}; the figures are only meaningful for Release builds. " +
                "Run it with: dotnet run -c Release --project tests/DecentCloud.Benchmarks");
        }

        var outputs = new BuildOutputs(
            configuration,
            Metadata("FunctionApp"),
            Metadata("FunctionsHostSampleApp"),
            Path.Combine(Metadata("FunctionsHost"), "DecentCloud.FunctionsHost.dll"),
            Path.Combine(Metadata("BareApp"), "BareApp.dll"));
        foreach (var required in new[]
        {
            Path.Combine(outputs.FunctionApp, "DecentCloud.Functions.dll"),
            Path.Combine(outputs.SampleApp, "FunctionsHost.SampleApp.dll"),
            outputs.FunctionsHostDll,
            outputs.BareAppDll,
        })
        {
            if (!File.Exists(required))
            {
                throw new BenchmarkException($"{required} is not there; build the benchmark with dotnet build -c Release (it builds everything it runs).");
            }
        }

        return outputs;
    }

    private static string Metadata(string key) =>
        typeof(BuildOutputs).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(attribute => attribute.Key == key)?.Value
        ?? throw new BenchmarkException($"The benchmark's assembly has no {key} metadata; see DecentCloud.Benchmarks.csproj.");
}
