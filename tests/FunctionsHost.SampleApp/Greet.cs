using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace DecentCloud.FunctionsHost.SampleApp;

/// <summary>Answers with the name from its route and the trace it ran in, so tests see route values and trace context arrive.</summary>
public sealed class Greet
{
    [Function(nameof(Greet))]
    public IResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "greet/{name}")] HttpRequest request, string name) =>
        TypedResults.Ok(new Greeting(name, request.Query["style"].ToString(), Activity.Current?.TraceId.ToHexString()));
}

public sealed record Greeting(string Name, string Style, string? TraceId);
