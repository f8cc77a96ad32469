namespace DecentCloud.Tests.Support;

/// <summary>
/// One private Azurite and one running app (local host and worker) for a whole test class, for classes whose tests keep
/// apart by their own keys and ids: starting the app's worker takes seconds, too long to pay for every test.
/// </summary>
public class AppFixture : IAsyncLifetime
{
    private readonly AzuriteFixture storage = new();
    private TestFunctionApp? app;

    public string ConnectionString => storage.ConnectionString;

    public TestFunctionApp App => app ?? throw new InvalidOperationException("The app is not started.");

    /// <summary>Whether the app runs with the test functions of tests/DecentCloud.Functions.TestApp beside its own.</summary>
    protected virtual bool WithTestFunctions => false;

    /// <summary>Settings of the class's app beside the test defaults.</summary>
    protected virtual IDictionary<string, string?>? Settings => null;

    public async Task InitializeAsync()
    {
        await storage.InitializeAsync();
        app = await TestFunctionApp.StartAsync(storage.ConnectionString, settings: Settings, withTestFunctions: WithTestFunctions);
    }

    public async Task DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }

        await storage.DisposeAsync();
    }
}

/// <summary>The app with the test functions of tests/DecentCloud.Functions.TestApp, for a whole test class.</summary>
public sealed class TestAppFixture : AppFixture
{
    protected override bool WithTestFunctions => true;
}
