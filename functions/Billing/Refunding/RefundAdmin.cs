using DecentCloud.Functions.Platform.Http;
using DecentCloud.Functions.Operations;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Billing.Refunding;

/// <summary>A refund the platform owes on one payment, as admins see it.</summary>
/// <param name="Status">awaiting-approval, to-pay, issued (asked of Stripe) or done (Stripe reported it).</param>
/// <param name="ChargedMinor">What the payment charged (gross, VAT included).</param>
/// <param name="RefundedBeforeMinor">What had been refunded of the payment when the refund was computed.</param>
/// <param name="IssuedMinor">What was asked of Stripe (null until then).</param>
public sealed record RefundView(
    string ContractId,
    string SessionId,
    string? PaymentIntentId,
    string Reason,
    string Status,
    string Currency,
    long ChargedMinor,
    long RefundedBeforeMinor,
    long ReleasedMinor,
    long RefundMinor,
    long? IssuedMinor,
    bool AwaitsAdminApproval,
    DateTimeOffset RequestedAt,
    DateTimeOffset? ApprovedAt,
    string? ApprovedBy,
    DateTimeOffset? RefundIssuedAt,
    string? StripeRefundId,
    DateTimeOffset? RefundedAt)
{
    public static RefundView Of(RefundOwedEntity refund) => new(
        refund.PartitionKey, refund.SessionId, refund.PaymentIntentId, refund.Reason, refund.Status, refund.Currency, refund.ChargedMinor,
        refund.RefundedBeforeMinor, refund.ReleasedMinor, refund.RefundMinor, refund.RefundIssuedAt is null ? null : refund.IssuingMinor,
        refund.AwaitsAdminApproval, refund.RequestedAt, refund.ApprovedAt, refund.ApprovedBy, refund.RefundIssuedAt, refund.StripeRefundId, refund.RefundedAt);
}

/// <summary><c>GET /api/v1/admin/refunds</c>, admin: the refunds owed, those awaiting approval first.</summary>
public sealed class ListRefunds(ContractRows rows)
{
    public const int MaxListed = 500;

    [EndpointSummary("List refunds owed")]
    [EndpointDescription("Admin. One entry per payment owed back: contract, payment (session and payment intent), reason, status "
        + "(awaiting-approval, to-pay, issued, done), and the amounts: charged (gross), refunded before, released, owed, asked of Stripe. "
        + "Refunds not done by default; `?status=all` includes those done, `?status=awaiting-approval` (or to-pay, issued, done) only those. At most 500.")]
    [Function(nameof(ListRefunds))]
    public async Task<Results<Ok<List<RefundView>>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Admin, "get", Route = "v1/admin/refunds")] HttpRequest request, CancellationToken cancellationToken)
    {
        var status = request.HttpContext.Request.Query["status"].ToString();
        if (status.Length > 0 && status is not ("all" or "awaiting-approval" or "to-pay" or "issued" or "done"))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Unknown status",
                detail: "status must be one of all, awaiting-approval, to-pay, issued, done.");
        }

        var listed = new List<RefundView>();
        await foreach (var refund in rows.AcrossContractsAsync<RefundOwedEntity>(RefundOwedEntity.RowKeyPrefix, cancellationToken))
        {
            var wanted = status switch
            {
                "" => refund.RefundedAt is null,
                "all" => true,
                _ => refund.Status == status,
            };
            if (wanted && listed.Count < MaxListed)
            {
                listed.Add(RefundView.Of(refund));
            }
        }

        return TypedResults.Ok(listed.OrderByDescending(r => r.AwaitsAdminApproval).ThenBy(r => r.RequestedAt).ToList());
    }
}

/// <summary><c>POST /api/v1/admin/contracts/{id}/refunds/{sessionId}/approve</c>, admin: approves a refund above the threshold; the refund timer pays it.</summary>
public sealed class ApproveRefund(ContractRows rows, AdminAudit audit, TimeProvider time)
{
    [EndpointSummary("Approve a refund")]
    [EndpointDescription("Admin. Approves the refund of one payment (its Checkout Session id) that awaits approval because it is above "
        + "the currency's threshold; the next refund run pays it through Stripe. 404 without such a refund, 409 if it needs no approval "
        + "or changed meanwhile. Recorded in the admin audit trail.")]
    [Function(nameof(ApproveRefund))]
    public async Task<Results<Ok<RefundView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Admin, "post", Route = "v1/admin/contracts/{id}/refunds/{sessionId}/approve")] HttpRequest request, string id, string sessionId, CancellationToken cancellationToken)
    {
        var target = $"{id}/{sessionId}";
        var contractId = id.Trim().ToLowerInvariant();
        var refund = await rows.FindAsync<RefundOwedEntity>(contractId, RefundOwedEntity.RowKeyFor(sessionId.Trim()), cancellationToken);
        if (refund is null)
        {
            await audit.RecordAsync(request.HttpContext, "refund.approve", target, "not found");
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No refund", detail: $"Contract {id} owes no refund on payment {sessionId}.");
        }

        if (!refund.AwaitsAdminApproval)
        {
            await audit.RecordAsync(request.HttpContext, "refund.approve", target, "refused: needs no approval");
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Needs no approval", detail: $"The refund of payment {sessionId} does not await approval.");
        }

        refund.AwaitsAdminApproval = false;
        refund.ApprovedBy = FunctionCaller.Of(request.HttpContext).Name;
        refund.ApprovedAt = time.GetUtcNow();
        if (!await rows.TryReplaceAsync(refund, cancellationToken))
        {
            await audit.RecordAsync(request.HttpContext, "refund.approve", target, "refused: changed concurrently");
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Changed concurrently", detail: "The refund changed meanwhile; read it again.");
        }

        await audit.RecordAsync(request.HttpContext, "refund.approve", target, $"approved {refund.RefundMinor} {refund.Currency}");
        return TypedResults.Ok(RefundView.Of(refund));
    }
}
