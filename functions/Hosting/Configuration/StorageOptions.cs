using System.ComponentModel.DataAnnotations;
using Azure.Storage.Queues;

namespace DecentCloud.Functions.Hosting.Configuration;

/// <summary>The storage account every trigger and feature uses, as <c>AzureWebJobsStorage</c> names it in a function app.</summary>
public sealed class StorageOptions : IValidatableObject
{
    public const string ConnectionSetting = "AzureWebJobsStorage";

    [ConfigurationKeyName(ConnectionSetting)]
    [Required(ErrorMessage = "The setting AzureWebJobsStorage is required (a storage connection string; UseDevelopmentStorage=true for Azurite on its default ports).")]
    public string ConnectionString { get; set; } = "";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
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
