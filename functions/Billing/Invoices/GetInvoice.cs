using DecentCloud.Functions.Hosting.Http;
using DecentCloud.Functions.Identity;
using DecentCloud.Functions.Marketplace.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace DecentCloud.Functions.Billing.Invoices;

/// <summary><c>GET /api/v1/contracts/{id}/invoice</c>: the invoice PDF, for the renter, the provider or an admin.</summary>
public sealed class GetInvoice(ContractInvoices invoices, InvoiceBlobs blobs)
{
    [EndpointSummary("Download a contract's invoice")]
    [EndpointDescription("Signed by the contract's renter or provider, or called with the master key. The PDF as issued when the payment "
        + "succeeded. 404 for no such contract or no invoice yet; 403 for anyone else.")]
    [ProducesResponseType(typeof(byte[]), StatusCodes.Status200OK, "application/pdf")]
    public async Task<Results<FileContentHttpResult, ProblemHttpResult>> Run(string id, HttpContext context, CancellationToken cancellationToken)
    {
        var found = await invoices.FindAsync(id, context, cancellationToken);
        if (found.Problem is { } problem)
        {
            return problem;
        }

        var invoice = found.Invoice!;
        var pdf = await blobs.ReadAsync(invoice.BlobName, cancellationToken);
        return TypedResults.File(pdf, "application/pdf", $"{invoice.Number}.pdf");
    }
}

/// <summary><c>GET /api/v1/contracts/{id}/invoice/metadata</c>: the invoice and its credit notes as JSON.</summary>
public sealed class GetInvoiceMetadata(ContractInvoices invoices)
{
    [EndpointSummary("Read a contract's invoice metadata")]
    [EndpointDescription("Signed by the contract's renter or provider, or called with the master key. Number, dates, seller, buyer, net, "
        + "VAT rate and amount, gross, VAT treatment and source, the receipt, and every credit note referring to the invoice.")]
    public async Task<Results<Ok<ContractInvoicesView>, ProblemHttpResult>> Run(string id, HttpContext context, CancellationToken cancellationToken)
    {
        var found = await invoices.FindAsync(id, context, cancellationToken);
        return found.Problem is { } problem
            ? problem
            : TypedResults.Ok(new ContractInvoicesView(found.Invoice!.ToView(), found.CreditNotes.Select(note => note.ToView()).ToList()));
    }
}

/// <summary>Finds a contract's issued invoice for a caller who may see it.</summary>
public sealed class ContractInvoices(ContractRows rows)
{
    public async Task<(InvoiceEntity? Invoice, IReadOnlyList<InvoiceEntity> CreditNotes, ProblemHttpResult? Problem)> FindAsync(string id, HttpContext context, CancellationToken cancellationToken)
    {
        if (await rows.ContractAsync(id, cancellationToken) is not { } contract)
        {
            return (null, [], ContractProblems.NotFound(id));
        }

        var admin = FunctionCaller.Of(context).Level == AuthorizationLevel.Admin;
        var signer = context.Features.Get<SignedCaller>();
        if (!admin && (signer is null || !(signer.Is(contract.RenterKey) || signer.Is(contract.ProviderKey))))
        {
            return (null, [], BillingProblems.NotAParty());
        }

        var documents = contract.PaidSessionId is null ? [] : await rows.ListAsync<InvoiceEntity>(contract.PartitionKey, InvoiceEntity.RowKeyPrefix, cancellationToken);
        var invoice = documents.FirstOrDefault(d => d.RowKey == InvoiceEntity.RowKeyFor(contract.PaidSessionId!) && d.PdfWrittenAt is not null);
        if (invoice is null)
        {
            return (null, [], BillingProblems.NoInvoice(contract.PartitionKey));
        }

        var notes = documents.Where(d => d.Kind == nameof(InvoiceKind.CreditNote) && d.SessionId == invoice.SessionId && d.PdfWrittenAt is not null)
            .OrderBy(d => d.Number, StringComparer.Ordinal).ToList();
        return (invoice, notes, null);
    }
}
