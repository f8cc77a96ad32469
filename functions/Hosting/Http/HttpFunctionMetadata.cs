namespace DecentCloud.Functions.Hosting.Http;

/// <summary>Endpoint metadata that marks an endpoint as an HTTP function with its name and authorization level.</summary>
public sealed record HttpFunctionMetadata(string Name, AuthorizationLevel Level);
