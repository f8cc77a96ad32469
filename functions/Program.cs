using DecentCloud.Functions.Billing;
using DecentCloud.Functions.Chatwoot.Onboarding;
using DecentCloud.Functions.Health;
using DecentCloud.Functions.Identity;
using DecentCloud.Functions.Identity.Delegations;
using DecentCloud.Functions.Ledger;
using DecentCloud.Functions.Marketplace.Accounts;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Marketplace.Offerings;
using DecentCloud.Functions.Marketplace.Providers;
using DecentCloud.Functions.Operations;
using DecentCloud.Functions.Platform;
using DecentCloud.Functions.Platform.Http;
using DecentCloud.Functions.Provisioning;
using DecentCloud.Functions.Provisioning.Lifecycle;
using Microsoft.Azure.Functions.Worker.Builder;

namespace DecentCloud.Functions;

/// <summary>
/// The Decent Cloud function app, an Azure Functions isolated-worker app: every feature's services and the worker
/// middleware. The functions themselves are declared by their attributes ([Function] and a trigger), from which the
/// Worker SDK writes functions.metadata at build time.
/// </summary>
public static class Program
{
    public static Task Main(string[] args) => Create(args).RunAsync();

    public static IHost Create(string[] args)
    {
        var builder = FunctionsApplication.CreateBuilder(args);
        builder.ConfigureFunctionsWebApplication();
        builder.UseMiddleware<HttpFunctionMiddleware>();
        builder.Configuration.AddAppSettings(AppContext.BaseDirectory);
        builder.Services.AddAppServices();
        return builder.Build();
    }

    /// <summary>Every feature's services: what the worker runs the functions with (and what tests read storage through).</summary>
    public static IServiceCollection AddAppServices(this IServiceCollection services) =>
        services
            .AddPlatform()
            .AddHealth()
            .AddIdentity()
            .AddAgentDelegations()
            .AddOperations()
            .AddAccounts()
            .AddProviders()
            .AddOfferings()
            .AddContracts()
            .AddBilling()
            .AddLedger()
            .AddProvisioning()
            .AddContractLifecycle()
            .AddChatwoot();
}
