using DecentCloud.Functions.Ledger.Payouts;
using DecentCloud.Functions.Ledger.Reconciliation;
using DecentCloud.Functions.Ledger.Releases;
using DecentCloud.Functions.Platform.Configuration;

namespace DecentCloud.Functions.Ledger;

public static class LedgerServices
{
    /// <summary>The escrow ledger: releases, payouts, the ledger's reads and its reconciliation. Needs billing's contract rows.</summary>
    public static IServiceCollection AddLedger(this IServiceCollection services)
    {
        services.AddSettings<ReleaseOptions>();
        return services
            .AddSingleton<LedgerStore>()
            .AddSingleton<PaymentReleases>()
            .AddSingleton<Earnings>()
            .AddSingleton<PayoutRecorder>()
            .AddSingleton<LedgerReconciliation>();
    }
}
