using DecentCloud.Shared.Signing;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace DecentCloud.Functions.Identity;

/// <summary>Marks signed operations in the OpenAPI document: the four signature headers, and the 401 and 413 they can answer.</summary>
internal sealed class SignedOperationsOpenApi : IOpenApiDocumentTransformer, IOpenApiOperationTransformer
{
    public const string Scheme = "decentCloudSignature";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[Scheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = SignatureHeaders.SignatureHeader,
            Description = "An Ed25519ph signature (context decent-cloud) over timestamp, nonce, method, path with query and body, "
                + $"sent with {SignatureHeaders.PublicKeyHeader}, {SignatureHeaders.TimestampHeader} (Unix ns) and {SignatureHeaders.NonceHeader} (a new UUID). See docs/signing.md.",
        };
        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (!context.Description.ActionDescriptor.EndpointMetadata.OfType<SignedRequestMetadata>().Any())
        {
            return Task.CompletedTask;
        }

        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Scheme, context.Document)] = [] });
        operation.Responses ??= [];
        operation.Responses.TryAdd("401", new OpenApiResponse { Description = "Not validly signed: a missing or malformed header, a bad signature, a timestamp outside ±5 minutes or a nonce seen before (problem details with a check field)." });
        operation.Responses.TryAdd("413", new OpenApiResponse { Description = $"A body over {SignedRequestOptions.MaxBodyBytesSetting} (1 MiB by default), refused before it is read (problem details, check bodySize)." });
        return Task.CompletedTask;
    }
}
