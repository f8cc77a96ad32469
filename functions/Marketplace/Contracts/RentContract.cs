using DecentCloud.Functions.Platform.Http;
using DecentCloud.Functions.Identity;
using DecentCloud.Functions.Marketplace.Accounts;
using DecentCloud.Functions.Marketplace.Events;
using DecentCloud.Functions.Marketplace.Offerings;
using DecentCloud.Functions.Marketplace.Providers;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Contracts;

/// <summary><c>POST /api/v1/contracts</c>, signed by the renter: rent a visible offering; the contract starts <c>requested</c>.</summary>
public sealed class RentContract(ContractStore store, OfferingStore offerings, ContractEvents events, TimeProvider time)
{
    [EndpointSummary("Rent an offering")]
    [EndpointDescription("Signed by the renter. Body { providerPubkey, offeringId, hours?, sshKey, memo? }; hours default to 720. "
        + "The price is the offering's monthly price × hours / 720, rounded up. 400 with field errors for an invalid body or term, "
        + "404 if the offering does not exist or is hidden. 201 with the contract in state requested.")]
    [JsonBody(typeof(RentRequest))]
    [Function(nameof(RentContract))]
    [Signed]
    public async Task<Results<Created<ContractView>, ValidationProblem, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/contracts")] HttpRequest request, CancellationToken cancellationToken)
    {
        var contract = await JsonBodies.ReadAsync<RentRequest>(request, cancellationToken);
        var caller = SignedCaller.Of(request.HttpContext);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(contract?.ProviderPubkey))
        {
            errors["providerPubkey"] = ["The provider's public key is required."];
        }

        if (string.IsNullOrWhiteSpace(contract?.OfferingId))
        {
            errors["offeringId"] = ["The offering id is required."];
        }

        var sshKey = SshPublicKey.TryParse(contract?.SshKey, out var sshError);
        if (sshKey is null)
        {
            errors["sshKey"] = [sshError];
        }

        var memo = string.IsNullOrWhiteSpace(contract?.Memo) ? null : contract.Memo.Trim();
        if (memo is { Length: > RentRequest.MaxMemoLength })
        {
            errors["memo"] = [$"The memo is at most {RentRequest.MaxMemoLength} characters."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Contract request not valid");
        }

        var providerKey = ProviderStore.PartitionKey(contract!.ProviderPubkey!);
        var offeringId = contract.OfferingId!.Trim();
        if (await offerings.FindAsync(providerKey, offeringId, cancellationToken) is not { Hidden: false } offering)
        {
            return ContractProblems.OfferingNotFound(providerKey, offeringId);
        }

        var price = ContractPricing.Price(offering.MonthlyPriceMinor, contract.Hours, new HourBounds(offering.MinHours, offering.MaxHours));
        if (price is not PriceResult.Priced priced)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["hours"] = [((PriceResult.Refused)price).Reason] }, title: "Contract request not valid");
        }

        var now = time.GetUtcNow();
        var entity = new ContractEntity
        {
            PartitionKey = ContractStore.NewId(),
            RenterKey = ProviderStore.PartitionKey(caller.PublicKeyHex),
            ProviderKey = providerKey,
            OfferingId = offering.RowKey,
            Hours = priced.Hours,
            PriceMinor = priced.PriceMinor,
            Currency = offering.Currency,
            SshKey = sshKey!.Line,
            Memo = memo,
            State = ContractState.Requested.Name(),
            PaymentSucceeded = false,
            CreatedAt = now,
            UpdatedAt = now,
        };
        if (!await store.TryAddAsync(entity, cancellationToken))
        {
            return ContractProblems.IdTaken();
        }

        await events.PublishAsync(EventSubscriptions.ContractRequested, entity, cancellationToken);
        return TypedResults.Created($"/api/v1/contracts/{entity.PartitionKey}", entity.ToView());
    }
}
