using DecentCloud.Functions.Hosting.Http;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Operations;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Billing.Refunding;

/// <summary>A refund the platform owes, as admins see it.</summary>
public sealed record RefundView(string ContractId, long RefundMinor, string Currency, string Reason, bool AwaitsAdminApproval, DateTimeOffset RequestedAt,
    DateTimeOffset? ApprovedAt, string? ApprovedBy, DateTimeOffset? RefundIssuedAt, string? StripeRefundId, DateTimeOffset? RefundedAt)
{
    public static RefundView Of(RefundRequestEntity refund) => new(refund.PartitionKey, refund.RefundMinor, refund.Currency, refund.Reason, refund.AwaitsAdminApproval,
        refund.RequestedAt, refund.ApprovedAt, refund.ApprovedBy, refund.RefundIssuedAt, refund.StripeRefundId, refund.RefundedAt);
}

/// <summary><c>GET /api/v1/admin/refunds</c>, admin: the refunds not done yet, those awaiting approval first.</summary>
public sealed class ListRefunds(ContractRows rows)
{
    [EndpointSummary("List open refunds")]
    [EndpointDescription("Admin. Every refund the platform owes that Stripe has not reported done: amount, reason, whether it awaits approval, "
        + "and whether it was asked of Stripe. At most 500.")]
    public async Task<Ok<List<RefundView>>> Run(CancellationToken cancellationToken)
    {
        var open = new List<RefundView>();
        await foreach (var refund in rows.AcrossContractsAsync<RefundRequestEntity>(RefundRequestEntity.RefundRowKey, cancellationToken))
        {
            if (refund.RefundedAt is null && open.Count < 500)
            {
                open.Add(RefundView.Of(refund));
            }
        }

        return TypedResults.Ok(open.OrderByDescending(r => r.AwaitsAdminApproval).ThenBy(r => r.RequestedAt).ToList());
    }
}

/// <summary><c>POST /api/v1/admin/contracts/{id}/refund/approve</c>, admin: approves a refund above the threshold; the refund timer pays it.</summary>
public sealed class ApproveRefund(ContractRows rows, AdminAudit audit, TimeProvider time)
{
    [EndpointSummary("Approve a refund")]
    [EndpointDescription("Admin. Approves the contract's refund that awaits approval (DOMAIN.md: refunds above a threshold); the next refund run pays it "
        + "through Stripe. 404 without a refund, 409 if it needs no approval. Recorded in the admin audit trail.")]
    public async Task<Results<Ok<RefundView>, ProblemHttpResult>> Run(string id, HttpContext context, CancellationToken cancellationToken)
    {
        var refund = await rows.FindAsync<RefundRequestEntity>(id.Trim().ToLowerInvariant(), RefundRequestEntity.RefundRowKey, cancellationToken);
        if (refund is null)
        {
            await audit.RecordAsync(context, "refund.approve", id, "not found");
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No refund", detail: $"Contract {id} owes no refund.");
        }

        if (!refund.AwaitsAdminApproval)
        {
            await audit.RecordAsync(context, "refund.approve", id, "refused: needs no approval");
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Needs no approval", detail: $"The refund of contract {id} does not await approval.");
        }

        refund.AwaitsAdminApproval = false;
        refund.ApprovedBy = FunctionCaller.Of(context).Name;
        refund.ApprovedAt = time.GetUtcNow();
        if (!await rows.TryReplaceAsync(refund, cancellationToken))
        {
            await audit.RecordAsync(context, "refund.approve", id, "refused: changed concurrently");
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Changed concurrently", detail: "The refund changed meanwhile; read it again.");
        }

        await audit.RecordAsync(context, "refund.approve", id, $"approved {refund.RefundMinor} {refund.Currency}");
        return TypedResults.Ok(RefundView.Of(refund));
    }
}
