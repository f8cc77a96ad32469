using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Billing;

/// <summary>
/// For a whole test class: a private Azurite, billing's outside world (Stripe, SendGrid and VIES stand-ins) and one
/// running app wired to them. Tests keep apart by their own provider, offering and contracts.
/// </summary>
public class BillingAppFixture : IAsyncLifetime
{
    private readonly AzuriteFixture storage = new();
    private TestFunctionApp? app;

    public BillingWorld World { get; } = new();

    public string ConnectionString => storage.ConnectionString;

    public TestFunctionApp App => app ?? throw new InvalidOperationException("The app is not started.");

    /// <summary>Changes the class's settings before its app starts.</summary>
    protected virtual void Configure(Dictionary<string, string?> settings)
    {
    }

    public async Task InitializeAsync()
    {
        await storage.InitializeAsync();
        await World.InitializeAsync();
        var settings = World.Settings();
        Configure(settings);
        app = await TestFunctionApp.StartAsync(storage.ConnectionString, settings: settings);
    }

    public async Task DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }

        await World.DisposeAsync();
        await storage.DisposeAsync();
    }
}
