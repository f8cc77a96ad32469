using DecentCloud.Functions.Identity;
using DecentCloud.Functions.Marketplace.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Provisioning.Views;

/// <summary>The sealed credentials beside where the instance is; only the renter's secret key opens them.</summary>
public sealed record CredentialsView(
    string ContractId,
    string ExternalId,
    string? Ipv4,
    string? Ipv6,
    string? Hostname,
    int SshPort,
    string? SshUser,
    int Version,
    string EphemeralPubkey,
    string Nonce,
    string Ciphertext,
    string Aad);

/// <summary><c>GET /api/v1/contracts/{id}/credentials</c>, signed by the renter: the instance's credentials, sealed to the renter's key.</summary>
public sealed class GetContractCredentials(ProvisioningStore store)
{
    [EndpointSummary("A contract's sealed credentials")]
    [EndpointDescription("Signed by the contract's renter (403 for any other key, the provider's included). The sealed blob { version, ephemeralPubkey, nonce, ciphertext, aad } "
        + "with { contractId, externalId, ipv4, ipv6, hostname, sshPort, sshUser }; 404 for an unknown contract or before an instance was reported provisioned.")]
    [Function(nameof(GetContractCredentials))]
    [Signed]
    public async Task<Results<Ok<CredentialsView>, ProblemHttpResult>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/contracts/{id}/credentials")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        if (await store.ContractAsync(id, cancellationToken) is not { } contract)
        {
            return ContractProblems.NotFound(id);
        }

        if (!SignedCaller.Of(request.HttpContext).Is(contract.RenterKey))
        {
            return ContractProblems.WrongParty("read the credentials of", "renter");
        }

        if (await store.InstanceAsync(contract.PartitionKey, cancellationToken) is not { } instance)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not provisioned yet", detail: $"No instance of contract {contract.PartitionKey} has been reported provisioned.");
        }

        return TypedResults.Ok(new CredentialsView(
            contract.PartitionKey, instance.ExternalId, instance.Ipv4, instance.Ipv6, instance.Hostname, instance.SshPort, instance.SshUser,
            instance.SealedVersion, instance.SealedEphemeralPubkey, instance.SealedNonce, instance.SealedCiphertext, instance.SealedAad));
    }
}
