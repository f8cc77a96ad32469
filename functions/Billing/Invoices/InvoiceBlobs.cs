using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace DecentCloud.Functions.Billing.Invoices;

/// <summary>
/// The <c>invoices</c> container. A PDF is written with <c>If-None-Match: *</c>, so the store itself refuses a second
/// write of the same number (409): an issued invoice cannot be overwritten, by a retry or by a bug.
/// </summary>
public sealed class InvoiceBlobs(BlobServiceClient blobs)
{
    public const string ContainerName = "invoices";

    private readonly BlobContainerClient container = blobs.GetBlobContainerClient(ContainerName);
    private volatile bool containerExists;

    /// <summary>Writes the PDF; false when the blob exists already (it was written before and stays as it is).</summary>
    public async Task<bool> TryWriteOnceAsync(string name, byte[] pdf, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        try
        {
            await container.GetBlobClient(name).UploadAsync(
                BinaryData.FromBytes(pdf),
                new BlobUploadOptions
                {
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                    HttpHeaders = new BlobHttpHeaders { ContentType = "application/pdf" },
                },
                cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status409Conflict)
        {
            return false;
        }
    }

    public async Task<byte[]> ReadAsync(string name, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        try
        {
            var content = await container.GetBlobClient(name).DownloadContentAsync(cancellationToken);
            return content.Value.Content.ToArray();
        }
        catch (RequestFailedException ex)
        {
            throw new InvalidOperationException($"reading invoice PDF {ContainerName}/{name}", ex);
        }
    }

    private async Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (!containerExists)
        {
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            containerExists = true;
        }
    }
}
