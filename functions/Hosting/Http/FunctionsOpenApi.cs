using DecentCloud.Shared;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace DecentCloud.Functions.Hosting.Http;

/// <summary>Titles the OpenAPI document and marks which operations need a function key or the master key.</summary>
internal sealed class FunctionsOpenApi : IOpenApiDocumentTransformer, IOpenApiOperationTransformer
{
    public const string FunctionKeyScheme = "functionKey";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "Decent Cloud API";
        document.Info.Version = BuildInfo.Version;
        document.Info.Description = "The Decent Cloud back end. Function-level operations take a function key, a host key or the master key; admin operations take the master key; either in the x-functions-key header or the code query parameter.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[FunctionKeyScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = FunctionKeyMiddleware.HeaderName,
            Description = "A function key, host key or the master key (admin operations: the master key only).",
        };
        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var function = context.Description.ActionDescriptor.EndpointMetadata.OfType<HttpFunctionMetadata>().FirstOrDefault();
        if (function is not null && context.Description.ParameterDescriptions.Any(p => p.Source == BindingSource.Path))
        {
            operation.Responses ??= [];
            operation.Responses.TryAdd("400", new OpenApiResponse { Description = $"A path value of more than {StorageKeys.MaxLength} characters, or holding / \\ # ? or a control character (problem details naming the parameter); or other bad input." });
        }

        if (function is null || function.Level == AuthorizationLevel.Anonymous)
        {
            return Task.CompletedTask;
        }

        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(FunctionKeyScheme, context.Document)] = [] });
        operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
        operation.Extensions["x-authorization-level"] = new JsonNodeExtension(function.Level.ToString().ToLowerInvariant());
        operation.Responses ??= [];
        operation.Responses.TryAdd("401", new OpenApiResponse { Description = "No key, or a key this operation does not accept (problem details)." });
        return Task.CompletedTask;
    }
}
