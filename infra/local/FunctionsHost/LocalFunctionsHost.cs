namespace DecentCloud.FunctionsHost;

/// <summary>The local stand-in for the Azure Functions host: runs a built isolated-worker app.</summary>
public static class LocalFunctionsHost
{
    public static Task<int> RunAsync(string[] args)
    {
        Console.Error.WriteLine($"usage: DecentCloud.FunctionsHost <app folder> ({args.Length} arguments given)");
        return Task.FromResult(2);
    }
}
