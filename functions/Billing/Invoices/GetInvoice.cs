using DecentCloud.Functions.Platform.Http;
using DecentCloud.Functions.Identity;
using DecentCloud.Functions.Marketplace.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace DecentCloud.Functions.Billing.Invoices;

/// <summary><c>GET /api/v1/contracts/{id}/invoice</c>: the invoice PDF, for the renter or the provider; <c>/api/v1/admin/contracts/{id}/invoice</c> for an admin.</summary>
public sealed class GetInvoice(ContractInvoices invoices, InvoiceBlobs blobs)
{
    [EndpointSummary("Download a contract's invoice")]
    [EndpointDescription("Signed by the contract's renter or provider, or an admin at the same path under /api/v1/admin/ with the master key. The PDF as issued when the payment "
        + "succeeded. 404 for no such contract or no invoice yet; 403 for anyone else.")]
    [ProducesResponseType(typeof(byte[]), StatusCodes.Status200OK, "application/pdf")]
    [Function(nameof(GetInvoice))]
    [Signed]
    public async Task<Results<FileContentHttpResult, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/contracts/{id}/invoice")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var found = await invoices.FindAsync(id, request.HttpContext, cancellationToken);
        if (found.Problem is { } problem)
        {
            return problem;
        }

        var invoice = found.Invoice!;
        var pdf = await blobs.ReadAsync(invoice.BlobName, cancellationToken);
        return TypedResults.File(pdf, "application/pdf", $"{invoice.Number}.pdf");
    }

    /// <summary><c>GET /api/v1/admin/contracts/{id}/invoice</c>, admin: the same invoice PDF, for an admin (master key).</summary>
    [Function("GetInvoiceAsAdmin")]
    public Task<Results<FileContentHttpResult, ProblemHttpResult>> RunAsAdmin([HttpTrigger(AuthorizationLevel.Admin, "get", Route = "v1/admin/contracts/{id}/invoice")] HttpRequest request, string id, CancellationToken cancellationToken) =>
        Run(request, id, cancellationToken);
}

/// <summary><c>GET /api/v1/contracts/{id}/credit-notes/{number}</c>: a credit note's PDF, for the renter, the provider or an admin.</summary>
public sealed class GetCreditNote(ContractInvoices invoices, InvoiceBlobs blobs)
{
    [EndpointSummary("Download a credit note")]
    [EndpointDescription("Signed by the contract's renter or provider, or an admin at the same path under /api/v1/admin/ with the master key. The PDF of credit note {number} "
        + "(CN-YYYY-NNNNNN) of the contract, issued for a refund; the invoice metadata lists them. 404 for no such contract or credit note; "
        + "403 for anyone else.")]
    [ProducesResponseType(typeof(byte[]), StatusCodes.Status200OK, "application/pdf")]
    [Function(nameof(GetCreditNote))]
    [Signed]
    public async Task<Results<FileContentHttpResult, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/contracts/{id}/credit-notes/{number}")] HttpRequest request, string id, string number, CancellationToken cancellationToken)
    {
        var found = await invoices.CreditNotesAsync(id, request.HttpContext, cancellationToken);
        if (found.Problem is { } problem)
        {
            return problem;
        }

        var wanted = number.Trim().ToUpperInvariant();
        if (found.CreditNotes.FirstOrDefault(note => note.Number == wanted) is not { } note)
        {
            return BillingProblems.NoCreditNote(id, number);
        }

        var pdf = await blobs.ReadAsync(note.BlobName, cancellationToken);
        return TypedResults.File(pdf, "application/pdf", $"{note.Number}.pdf");
    }

    /// <summary><c>GET /api/v1/admin/contracts/{id}/credit-notes/{number}</c>, admin: the same credit note PDF, for an admin (master key).</summary>
    [Function("GetCreditNoteAsAdmin")]
    public Task<Results<FileContentHttpResult, ProblemHttpResult>> RunAsAdmin([HttpTrigger(AuthorizationLevel.Admin, "get", Route = "v1/admin/contracts/{id}/credit-notes/{number}")] HttpRequest request, string id, string number, CancellationToken cancellationToken) =>
        Run(request, id, number, cancellationToken);
}

/// <summary><c>GET /api/v1/contracts/{id}/invoice/metadata</c>: the invoice and its credit notes as JSON.</summary>
public sealed class GetInvoiceMetadata(ContractInvoices invoices)
{
    [EndpointSummary("Read a contract's invoice metadata")]
    [EndpointDescription("Signed by the contract's renter or provider, or an admin at the same path under /api/v1/admin/ with the master key. Number, dates, seller, buyer, net, "
        + "VAT rate and amount, gross, VAT treatment and source, the receipt, and every credit note of the contract's refunds, each with "
        + "the address of its PDF (href).")]
    [Function(nameof(GetInvoiceMetadata))]
    [Signed]
    public async Task<Results<Ok<ContractInvoicesView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/contracts/{id}/invoice/metadata")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var found = await invoices.FindAsync(id, request.HttpContext, cancellationToken);
        return found.Problem is { } problem
            ? problem
            : TypedResults.Ok(new ContractInvoicesView(found.Invoice!.ToView(), found.CreditNotes.Select(note => note.ToView()).ToList()));
    }

    /// <summary><c>GET /api/v1/admin/contracts/{id}/invoice/metadata</c>, admin: the same metadata, for an admin (master key).</summary>
    [Function("GetInvoiceMetadataAsAdmin")]
    public Task<Results<Ok<ContractInvoicesView>, ProblemHttpResult>> RunAsAdmin([HttpTrigger(AuthorizationLevel.Admin, "get", Route = "v1/admin/contracts/{id}/invoice/metadata")] HttpRequest request, string id, CancellationToken cancellationToken) =>
        Run(request, id, cancellationToken);
}

/// <summary>Finds a contract's issued invoice and credit notes for a caller who may see them: its renter, its provider or an admin.</summary>
public sealed class ContractInvoices(ContractRows rows)
{
    public async Task<(InvoiceEntity? Invoice, IReadOnlyList<InvoiceEntity> CreditNotes, ProblemHttpResult? Problem)> FindAsync(string id, HttpContext context, CancellationToken cancellationToken)
    {
        var (contract, documents, problem) = await DocumentsAsync(id, context, cancellationToken);
        if (problem is not null)
        {
            return (null, [], problem);
        }

        var invoice = contract!.PaidSessionId is { } session
            ? documents.FirstOrDefault(d => d.RowKey == InvoiceEntity.RowKeyFor(session))
            : null;
        return invoice is null
            ? (null, [], BillingProblems.NoInvoice(contract.PartitionKey))
            : (invoice, CreditNotesOf(documents), null);
    }

    /// <summary>Every issued credit note of the contract, whichever of its payments it refunds.</summary>
    public async Task<(IReadOnlyList<InvoiceEntity> CreditNotes, ProblemHttpResult? Problem)> CreditNotesAsync(string id, HttpContext context, CancellationToken cancellationToken)
    {
        var (_, documents, problem) = await DocumentsAsync(id, context, cancellationToken);
        return problem is not null ? ([], problem) : (CreditNotesOf(documents), null);
    }

    private static List<InvoiceEntity> CreditNotesOf(IEnumerable<InvoiceEntity> documents) =>
        documents.Where(d => d.Kind == nameof(InvoiceKind.CreditNote)).OrderBy(d => d.Number, StringComparer.Ordinal).ToList();

    /// <summary>The contract's documents whose PDF is written (only those are issued as far as a caller is concerned).</summary>
    private async Task<(ContractEntity? Contract, List<InvoiceEntity> Documents, ProblemHttpResult? Problem)> DocumentsAsync(string id, HttpContext context, CancellationToken cancellationToken)
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

        var documents = await rows.ListAsync<InvoiceEntity>(contract.PartitionKey, InvoiceEntity.RowKeyPrefix, cancellationToken);
        return (contract, documents.Where(d => d.PdfWrittenAt is not null).ToList(), null);
    }
}
