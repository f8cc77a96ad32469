using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace DecentCloud.FunctionsHost.SampleApp;

/// <summary>A function-level function: answers with the body it was sent.</summary>
public sealed class Echo
{
    [Function(nameof(Echo))]
    public async Task<IResult> Run([HttpTrigger(AuthorizationLevel.Function, "post", Route = "echo")] HttpRequest request, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync(cancellationToken);
        return TypedResults.Text(body, "text/plain");
    }
}
