using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace DecentCloud.FunctionsHost.SampleApp;

/// <summary>
/// Answers with the name from its route and the trace id of the invocation's trace context, so tests see route values
/// and trace context arrive; the name "boom" makes it throw.
/// </summary>
public sealed class Greet
{
    [Function(nameof(Greet))]
    public IResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "greet/{name}")] HttpRequest request, string name, FunctionContext context)
    {
        if (name == "boom")
        {
            throw new InvalidOperationException("Greet was asked to fail.");
        }

        var traceId = ActivityContext.TryParse(context.TraceContext.TraceParent, context.TraceContext.TraceState, out var trace) ? trace.TraceId.ToHexString() : null;
        return TypedResults.Ok(new Greeting(name, request.Query["style"].ToString(), traceId));
    }
}

public sealed record Greeting(string Name, string Style, string? TraceId);
