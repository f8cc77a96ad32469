namespace DecentCloud.Functions.Hosting.Http;

/// <summary>
/// The rule for every route value of every HTTP function, checked once here before keys, signatures or the function:
/// each must be able to serve as a storage key (<see cref="StorageKeys"/>: at most 256 characters, none of <c>/ \ # ?</c>
/// or a control character). Route values become table keys and blob names; a value storage refuses would otherwise be
/// retried by the storage client for seconds and end as a 500. A refusal is a 400 problem naming the route parameter
/// (docs/api.md, "Input rules"). The server decodes every escape in the path but <c>%2F</c>, so <c>%5C</c>, <c>%23</c>,
/// <c>%3F</c> and <c>%01</c> arrive here as the characters they stand for.
/// </summary>
internal sealed partial class RouteValueGuard(RequestDelegate next, IProblemDetailsService problems, ILogger<RouteValueGuard> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<HttpFunctionMetadata>() is { } function)
        {
            foreach (var (name, value) in context.Request.RouteValues)
            {
                if (value is string text && StorageKeys.Problem(text) is { } problem)
                {
                    LogRefused(logger, function.Name, name, text.Length, problem);
                    context.Response.StatusCode = StatusCodes.Status400BadRequest;
                    await problems.WriteAsync(new ProblemDetailsContext
                    {
                        HttpContext = context,
                        ProblemDetails =
                        {
                            Status = StatusCodes.Status400BadRequest,
                            Title = "Path value not valid",
                            Detail = $"The {{{name}}} in the path {problem}.",
                            Extensions = { ["parameter"] = name },
                        },
                    });
                    return;
                }
            }
        }

        await next(context);
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "Refused a call to {Function}: route value {Parameter} ({Length} characters) {Problem}")]
    private static partial void LogRefused(ILogger logger, string function, string parameter, int length, string problem);
}
