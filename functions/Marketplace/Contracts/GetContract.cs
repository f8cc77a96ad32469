using DecentCloud.Functions.Identity;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Contracts;

/// <summary><c>GET /api/v1/contracts/{id}</c>, signed by the renter or the provider of the contract.</summary>
public sealed class GetContract(ContractStore store)
{
    [EndpointSummary("Read a contract")]
    [EndpointDescription("Signed by the contract's renter or provider (403 for any other key); 404 if there is no such contract.")]
    [Function(nameof(GetContract))]
    [Signed]
    public async Task<Results<Ok<ContractView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/contracts/{id}")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        if (await store.FindAsync(id, cancellationToken) is not { } contract)
        {
            return ContractProblems.NotFound(id);
        }

        var caller = SignedCaller.Of(request.HttpContext);
        return caller.Is(contract.RenterKey) || caller.Is(contract.ProviderKey)
            ? TypedResults.Ok(contract.ToView())
            : ContractProblems.NotAParty();
    }
}
