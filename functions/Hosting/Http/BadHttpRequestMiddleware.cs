namespace DecentCloud.Functions.Hosting.Http;

/// <summary>
/// Answers the server's own refusal of a request it was reading (a <see cref="BadHttpRequestException"/>: malformed
/// chunking, a body cut short, a body over the server's limit) with that exception's 4xx as a problem, logged as a
/// warning. A function that binds its body gets this from minimal APIs; one that reads the body itself (the webhooks,
/// the signature check) would otherwise hand the exception to the exception handler, which answers 500.
/// </summary>
internal sealed partial class BadHttpRequestMiddleware(RequestDelegate next, IProblemDetailsService problems, ILogger<BadHttpRequestMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            LogRefused(logger, ex, context.Request.Method, context.Request.Path, ex.StatusCode);
            context.Response.Clear();
            context.Response.StatusCode = ex.StatusCode;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = { Status = ex.StatusCode, Title = "Request not readable", Detail = ex.Message },
            });
        }
    }

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Refused {Method} {Path} with {Status}: the request could not be read")]
    private static partial void LogRefused(ILogger logger, Exception exception, string method, PathString path, int status);
}
