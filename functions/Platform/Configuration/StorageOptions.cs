using System.ComponentModel.DataAnnotations;
using Azure.Core;
using Azure.Identity;
using Azure.Storage.Queues;

namespace DecentCloud.Functions.Platform.Configuration;

/// <summary>
/// The storage account every trigger and feature uses, named as a function app names <c>AzureWebJobsStorage</c>: either a
/// connection string (locally, <c>UseDevelopmentStorage=true</c> or Azurite's), or, in Azure, an identity-based
/// connection: <c>AzureWebJobsStorage__accountName</c> (or the three <c>__blobServiceUri</c>, <c>__queueServiceUri</c>,
/// <c>__tableServiceUri</c>), with <c>__credential</c> = <c>managedidentity</c> and <c>__clientId</c> for a
/// user-assigned identity. See docs/settings.md.
/// </summary>
public sealed class StorageOptions : IValidatableObject
{
    public const string ConnectionSetting = "AzureWebJobsStorage";

    [ConfigurationKeyName(ConnectionSetting)]
    public string? ConnectionString { get; set; }

    [ConfigurationKeyName(ConnectionSetting + ":accountName")]
    public string? AccountName { get; set; }

    [ConfigurationKeyName(ConnectionSetting + ":blobServiceUri")]
    public Uri? BlobServiceUri { get; set; }

    [ConfigurationKeyName(ConnectionSetting + ":queueServiceUri")]
    public Uri? QueueServiceUri { get; set; }

    [ConfigurationKeyName(ConnectionSetting + ":tableServiceUri")]
    public Uri? TableServiceUri { get; set; }

    [ConfigurationKeyName(ConnectionSetting + ":credential")]
    public string? Credential { get; set; }

    [ConfigurationKeyName(ConnectionSetting + ":clientId")]
    public string? ClientId { get; set; }

    public bool UsesIdentity => string.IsNullOrWhiteSpace(ConnectionString);

    public Uri ServiceUri(string service) => service switch
    {
        "blob" => BlobServiceUri ?? AccountUri(service),
        "queue" => QueueServiceUri ?? AccountUri(service),
        "table" => TableServiceUri ?? AccountUri(service),
        _ => throw new ArgumentOutOfRangeException(nameof(service), service, "blob, queue or table"),
    };

    /// <summary>The identity an identity-based connection signs in with.</summary>
    public TokenCredential TokenCredential() =>
        string.Equals(Credential, "managedidentity", StringComparison.OrdinalIgnoreCase)
            ? new ManagedIdentityCredential(string.IsNullOrWhiteSpace(ClientId) ? ManagedIdentityId.SystemAssigned : ManagedIdentityId.FromUserAssignedClientId(ClientId))
            : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = string.IsNullOrWhiteSpace(ClientId) ? null : ClientId });

    private Uri AccountUri(string service) =>
        new($"https://{AccountName}.{service}.core.windows.net");

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (UsesIdentity)
        {
            var hasUris = BlobServiceUri is not null && QueueServiceUri is not null && TableServiceUri is not null;
            if (string.IsNullOrWhiteSpace(AccountName) && !hasUris)
            {
                yield return new ValidationResult(
                    "The setting AzureWebJobsStorage is required: a storage connection string (UseDevelopmentStorage=true for Azurite on its default ports), "
                    + "or AzureWebJobsStorage__accountName (or __blobServiceUri, __queueServiceUri and __tableServiceUri) for an identity-based connection.",
                    [nameof(ConnectionString)]);
            }

            if (Credential is { Length: > 0 } credential && !string.Equals(credential, "managedidentity", StringComparison.OrdinalIgnoreCase))
            {
                yield return new ValidationResult("The setting AzureWebJobsStorage__credential is managedidentity or not set.", [nameof(Credential)]);
            }

            yield break;
        }

        string? problem = null;
        try
        {
            _ = new QueueServiceClient(ConnectionString);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            // The message is the SDK's own; it never echoes the connection string's key.
            problem = ex.Message;
        }

        if (problem is not null)
        {
            yield return new ValidationResult($"The setting {ConnectionSetting} is not a storage connection string: {problem}", [nameof(ConnectionString)]);
        }
    }
}
