using DecentCloud.Testing;

namespace DecentCloud.Benchmarks;

/// <summary>
/// A temporary function app root holding only a copy of the repository's host.json, so the apps under
/// test read the real trigger settings and never a developer's local.settings.json.
/// </summary>
internal sealed class ScriptRootFolder : IDisposable
{
    private ScriptRootFolder(string path) => Path = path;

    public string Path { get; }

    public static ScriptRootFolder CreateWithHostJson()
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"decentcloud-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        File.Copy(System.IO.Path.Combine(RepositoryRoot.Path, "host.json"), System.IO.Path.Combine(path, "host.json"));
        return new ScriptRootFolder(path);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder with one host.json in it harms nothing.
        }
    }
}
