using System.Reflection;
using Microsoft.AspNetCore.Routing.Patterns;

namespace DecentCloud.Functions.Hosting.Http;

/// <summary>
/// Maps an HTTP function class onto an ASP.NET Core endpoint. The class is created per request with
/// its constructor's services (as the isolated worker does), and its public <c>Run</c> method is bound by
/// the same request delegate factory minimal APIs use, so route values, bodies, services and the
/// OpenAPI description all come from Run's own signature and attributes.
/// </summary>
internal static class HttpFunctionEndpoints
{
    public static IEndpointConventionBuilder Map(IEndpointRouteBuilder endpoints, HttpFunction function)
    {
        var run = function.Type.GetMethod("Run", BindingFlags.Public | BindingFlags.Instance)
            ?? throw new InvalidOperationException($"HTTP function {function.Name} ({function.Type.Name}) has no public Run method.");
        var create = ActivatorUtilities.CreateFactory(function.Type, Type.EmptyTypes);
        var pattern = RoutePatternFactory.Parse(function.Route);

        var builder = endpoints
            .MapMethods(function.Route, [function.Method], context => throw new InvalidOperationException($"{function.Name} was not bound."))
            .WithName(function.Name)
            .WithMetadata(new HttpFunctionMetadata(function.Name, function.Level));
        builder.Add(endpoint =>
        {
            var options = new RequestDelegateFactoryOptions
            {
                ServiceProvider = endpoint.ApplicationServices,
                RouteParameterNames = pattern.Parameters.Select(p => p.Name).ToList(),
                EndpointBuilder = endpoint,
            };
            var metadata = RequestDelegateFactory.InferMetadata(run, options);

            // Compiling the binding code is the costly part; it happens on the function's first call rather than
            // for every function when the route table is built (inside the app's very first request).
            var handler = new Lazy<RequestDelegate>(
                () => RequestDelegateFactory.Create(run, context => create(context.RequestServices, null), options, metadata).RequestDelegate,
                LazyThreadSafetyMode.ExecutionAndPublication);
            endpoint.RequestDelegate = context => handler.Value(context);

            // The OpenAPI generator describes the endpoint from the last MethodInfo in its metadata, and
            // reads summaries and descriptions from Run's attributes, as minimal APIs add them.
            endpoint.Metadata.Add(run);
            foreach (var attribute in run.GetCustomAttributes())
            {
                endpoint.Metadata.Add(attribute);
            }

            endpoint.DisplayName = $"HTTP function {function.Name}: {function.Method} /{function.Route}";
        });
        function.Endpoint?.Invoke(builder);
        return builder;
    }
}
