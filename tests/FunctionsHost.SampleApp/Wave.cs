using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace DecentCloud.FunctionsHost.SampleApp;

/// <summary>A second function-level function, so tests see that one function's key does not open another.</summary>
public sealed class Wave
{
    [Function(nameof(Wave))]
    public IResult Run([HttpTrigger(AuthorizationLevel.Function, "get", Route = "wave")] HttpRequest request) =>
        TypedResults.Text("wave", "text/plain");
}
