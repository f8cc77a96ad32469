using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace DecentCloud.FunctionsHost.SampleApp;

/// <summary>An admin-level function: only the master key opens it.</summary>
public sealed class AdminReport
{
    [Function(nameof(AdminReport))]
    public IResult Run([HttpTrigger(AuthorizationLevel.Admin, "get", Route = "v1/admin/report")] HttpRequest request) =>
        TypedResults.Ok(new Report("all well"));
}

public sealed record Report(string Status);
