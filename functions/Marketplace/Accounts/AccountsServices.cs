namespace DecentCloud.Functions.Marketplace.Accounts;

public static class AccountsServices
{
    /// <summary>The <c>Accounts</c> table store.</summary>
    public static IServiceCollection AddAccounts(this IServiceCollection services) => services.AddSingleton<AccountStore>();
}
