using DecentCloud.Functions.Operations;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Ledger.Reconciliation;

/// <summary><c>GET /api/v1/admin/ledger/reconciliation</c>: the last reconciliation's report with its breaks.</summary>
public sealed class GetLedgerReconciliation(LedgerReconciliation reconciliation, AdminAudit audit)
{
    [EndpointSummary("The last ledger reconciliation")]
    [EndpointDescription("Admin. The report of the last nightly reconciliation (ReconcileLedger): when it ran, what it checked, and every "
        + "break (at most 100 listed; breakCount counts all, the log has each). 404 before the first run; run it now with "
        + "POST /admin/functions/ReconcileLedger (docs/ledger.md).")]
    [Function(nameof(GetLedgerReconciliation))]
    public async Task<Results<Ok<ReconciliationReport>, ProblemHttpResult>> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "get", Route = "v1/admin/ledger/reconciliation")] HttpRequest request, CancellationToken cancellationToken)
    {
        var report = await reconciliation.LatestAsync(cancellationToken);
        await audit.RecordAsync(request.HttpContext, "ledger.reconciliation", "last", report is null ? "none yet" : $"{report.BreakCount} breaks");
        return report is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not reconciled yet", detail: "The ledger has not been reconciled yet; the ReconcileLedger timer runs nightly at 02:30 UTC.")
            : TypedResults.Ok(report);
    }
}
