namespace DecentCloud.Testing;

/// <summary>The checkout's top folder (the one with DecentCloud.sln), found from wherever tests or benchmarks run.</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "DecentCloud.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No DecentCloud.sln above {AppContext.BaseDirectory}.");
    }
}
